import { generateWireGuardKeyPair, Secret } from '@isthmus/cable';
import { describe, expect, it } from 'vitest';
import type { NodeCableSpec } from '../resources';
import { AgentError } from './errors';
import { canonEndpoint, desiredWgState, parseWgDump, renderSetconf, wgDrift } from './wireguard';

const local = generateWireGuardKeyPair();
const p1 = generateWireGuardKeyPair().publicKey;
const p2 = generateWireGuardKeyPair().publicKey;

const cable: NodeCableSpec = {
  driver: 'wireguard',
  interface: 'wg0',
  mtu: 1440,
  listenPort: 4500,
  secretFile: '/etc/isthmus/wg.key',
  peers: [
    {
      publicKey: p1,
      endpoint: '198.18.0.2:4500',
      allowedIPs: ['10.20.0.0/16', '242.1.0.0/16'],
      persistentKeepalive: 10,
    },
    { publicKey: p2, endpoint: '[2001:db8::0:1]:4500', allowedIPs: ['fd00:20::/64'] },
  ],
};

function dump(peers: string[], listen = 4500, pub = local.publicKey): string {
  const lines = [`${local.privateKey.reveal()}\t${pub}\t${listen}\toff`, ...peers];
  return `${lines.join('\n')}\n`;
}
const peer1 = `${p1}\t(none)\t198.18.0.2:4500\t242.1.0.0/16,10.20.0.0/16\t0\t0\t0\t10`;
const peer2 = `${p2}\t(none)\t[2001:db8::1]:4500\tfd00:20::/64\t0\t0\t0\toff`;

describe('parseWgDump', () => {
  it('reads the device and its peers, and keeps no private or pre-shared key', () => {
    const psk = generateWireGuardKeyPair().privateKey.reveal();
    const state = parseWgDump(dump([peer1, peer2.replace('(none)', psk)]));
    expect(state.publicKey).toBe(local.publicKey);
    expect(state.listenPort).toBe(4500);
    expect(state.peers.map((p) => p.endpoint).sort()).toEqual(['198.18.0.2:4500', '[2001:db8::1]:4500']);
    const text = JSON.stringify(state);
    expect(text).not.toContain(local.privateKey.reveal());
    expect(text).not.toContain(psk);
  });

  it('reads a device without key, port or peers', () => {
    expect(parseWgDump('(none)\t(none)\t0\toff\n')).toEqual({ publicKey: null, listenPort: 0, peers: [] });
  });

  it('rejects text that is not a dump with PARSE_ERROR', () => {
    for (const bad of ['', 'hello', `${local.publicKey}\t(none)\t0\toff\nshort\tline`]) {
      let err: unknown;
      try {
        parseWgDump(bad);
      } catch (e) {
        err = e;
      }
      expect(AgentError.isInstance(err) && err.code).toBe('PARSE_ERROR');
    }
  });
});

describe('wgDrift: the device against the plan', () => {
  const want = desiredWgState(cable, local.publicKey);
  it('finds nothing when the dump matches, whatever the order of peers and allowed IPs', () => {
    expect(wgDrift(want, parseWgDump(dump([peer2, peer1])))).toEqual([]);
  });
  it('names each difference: missing device, other key, port, a missing, changed or extra peer', () => {
    expect(wgDrift(want, null)).toEqual(['device missing']);
    expect(wgDrift(want, parseWgDump(dump([peer1, peer2], 4500, p2)))).toEqual(['private key differs']);
    expect(wgDrift(want, parseWgDump(dump([peer1, peer2], 4501)))).toEqual(['listen port 4501 != 4500']);
    expect(wgDrift(want, parseWgDump(dump([peer1])))).toEqual([`peer ${p2} missing`]);
    expect(wgDrift(want, parseWgDump(dump([peer1.replace(/\t10$/, '\t25'), peer2])))).toEqual([
      `peer ${p1} differs`,
    ]);
    const extra = generateWireGuardKeyPair().publicKey;
    expect(
      wgDrift(want, parseWgDump(dump([peer1, peer2, `${extra}\t(none)\t(none)\t(none)\t0\t0\t0\toff`]))),
    ).toEqual([`peer ${extra} not in the plan`]);
  });
  it('ignores the listen port when the plan leaves it open', () => {
    const open = desiredWgState(
      { ...cable, listenPort: undefined } as unknown as NodeCableSpec,
      local.publicKey,
    );
    expect(wgDrift(open, parseWgDump(dump([peer1, peer2], 51820)))).toEqual([]);
  });
});

describe('renderSetconf', () => {
  it('renders the whole device config in wg setconf format, with canonical endpoints', () => {
    const text = renderSetconf(cable, new Secret(local.privateKey.reveal()));
    expect(text).toContain(`[Interface]\nPrivateKey = ${local.privateKey.reveal()}\nListenPort = 4500\n`);
    expect(text).toContain(
      `PublicKey = ${p1}\nAllowedIPs = 10.20.0.0/16, 242.1.0.0/16\nEndpoint = 198.18.0.2:4500\nPersistentKeepalive = 10\n`,
    );
    expect(text).toContain('Endpoint = [2001:db8::1]:4500\n');
    expect(text.match(/\[Peer\]/g)).toHaveLength(2);
  });
});

describe('canonEndpoint', () => {
  it('canonicalises IP literals and refuses host names and bad ports with INVALID_PLAN naming the value', () => {
    expect(canonEndpoint('[2001:DB8:0::1]:51820')).toBe('[2001:db8::1]:51820');
    expect(canonEndpoint('192.0.2.1:1')).toBe('192.0.2.1:1');
    for (const bad of [
      'gw.example.com:4500',
      '192.0.2.1',
      '192.0.2.1:0',
      '192.0.2.1:70000',
      '2001:db8::1:4500',
      '[::1]',
    ]) {
      expect(() => canonEndpoint(bad)).toThrow(bad);
      try {
        canonEndpoint(bad);
      } catch (e) {
        expect(AgentError.isInstance(e) && e.code).toBe('INVALID_PLAN');
      }
    }
  });
});
