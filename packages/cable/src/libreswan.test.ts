import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatewayEndpoint } from './endpoint';
import { renderIpsecConf, renderIpsecSecrets } from './libreswan';
import { planCable } from './plan';
import { meshEndpoint, thrown } from './test-support';

const PSK = 'g6Kp0yQ2c8Zt1uVw3xYz4AbCdEfGhIjK';
const a: GatewayEndpoint = {
  clusterId: 'east',
  privateIp: '198.18.0.1',
  privateSubnet: '198.18.0.0/24',
  subnets: ['10.10.0.0/16', 'fd00:10::/64'],
};
const b: GatewayEndpoint = {
  clusterId: 'west',
  privateIp: '198.19.0.2',
  privateSubnet: '198.19.0.0/24',
  publicIp: '192.0.2.2',
  subnets: ['10.20.0.0/16', '10.120.0.0/16', 'fd00:20::/64'],
};

describe('libreswan plan and renderers', () => {
  const plan = planCable(a, b, { driver: 'libreswan', psk: PSK });

  it('one tunnel connection per local x remote subnet pair of the same family, named like Submariner', () => {
    expect(plan.connections.map((c) => [c.name, c.leftSubnet, c.rightSubnet])).toEqual([
      ['submariner-cable-west-198-19-0-2-v4-0-0', '10.10.0.0/16', '10.20.0.0/16'],
      ['submariner-cable-west-198-19-0-2-v4-0-1', '10.10.0.0/16', '10.120.0.0/16'],
      ['submariner-cable-west-198-19-0-2-v6-0-0', 'fd00:10::/64', 'fd00:20::/64'],
    ]);
  });

  it('across NAT: right is the public IP, ids are the private IPs, encapsulation forced, MTU with UDP', () => {
    expect(renderIpsecConf(plan).split('\n\n')[0]).toBe(`conn submariner-cable-west-198-19-0-2-v4-0-0
\tauto=start
\ttype=tunnel
\tikev2=yes
\tauthby=secret
\tleft=198.18.0.1
\tleftid=198.18.0.1
\tleftsubnet=10.10.0.0/16
\tleftikeport=4500
\tright=192.0.2.2
\trightid=198.19.0.2
\trightsubnet=10.20.0.0/16
\trightikeport=4500
\tencapsulation=yes
\tike=aes_gcm256-sha2_256-dh19
\tesp=aes_gcm256
\tdpddelay=30
\tdpdtimeout=150
\tdpdaction=hold
\tmtu=1438`);
    expect(plan.mtu).toBe(1438);
    expect(plan.mssClamp.filter((r) => r.family === 4).every((r) => r.mss === 1398)).toBe(true);
    expect(plan.mssClamp.filter((r) => r.family === 6).every((r) => r.mss === 1378)).toBe(true);
  });

  it('between private IPs: encapsulation auto and the ESP-only MTU; forceEncapsulation restores UDP', () => {
    const near = { ...b, privateIp: '198.18.0.2', privateSubnet: '198.18.0.0/24' };
    const p = planCable(a, near, { driver: 'libreswan', psk: PSK });
    expect(
      p.connections.every((c) => c.encapsulation === 'auto' && c.mtu === 1446 && c.right === '198.18.0.2'),
    ).toBe(true);
    const forced = planCable(a, near, { driver: 'libreswan', psk: PSK, forceEncapsulation: true });
    expect(forced.connections.every((c) => c.encapsulation === 'yes' && c.mtu === 1438)).toBe(true);
  });

  it('port 500 is the IKE default and is not written (libreswan refuses ikeport=500)', () => {
    const p = planCable({ ...a, port: 500 }, { ...b, port: 500 }, { driver: 'libreswan', psk: PSK });
    expect(renderIpsecConf(p)).not.toContain('ikeport');
  });

  it('the .secrets line holds the PSK in quotes; nothing else does', () => {
    expect(renderIpsecSecrets(plan)).toBe(`%any %any : PSK "${PSK}"\n`);
    expect(renderIpsecConf(plan)).not.toContain(PSK);
    expect(JSON.stringify(plan)).not.toContain(PSK);
  });

  it('a weak or unquotable PSK is refused with the rule, revealing nothing about the value', () => {
    const rule = 'psk must be at least 16 printable ASCII characters without a double quote or a backslash';
    for (const psk of [
      'short',
      'x',
      'has "a quote" in it!',
      'new\nline-in-the-middle',
      'back\\slash-0123456789',
    ]) {
      const e = thrown(() => planCable(a, b, { driver: 'libreswan', psk }));
      expect(e.code).toBe('INVALID_SECRET');
      // The same message for every bad PSK: nothing in it (length, prefix, which rule) depends on the value.
      expect(e.message).toBe(rule);
      expect(e.details).toEqual({ field: 'psk' });
    }
    expect(thrown(() => planCable(a, b, { driver: 'libreswan' } as never)).code).toBe('MISSING_SECRET');
    expect(
      thrown(() => planCable(a, b, { driver: 'libreswan', psk: PSK, dpdDelay: 60, dpdTimeout: 30 })).code,
    ).toBe('INVALID_ARGUMENT');
  });

  it('any rejected PSK gives the same error, whatever its length or content', () => {
    let first: string | null = null;
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'binary' }), (psk) => {
        let e: unknown;
        try {
          planCable(a, b, { driver: 'libreswan', psk });
        } catch (x) {
          e = x;
        }
        if (e === undefined) return; // a valid PSK
        const err = e as Error & { details: unknown };
        const shown = `${err.message}|${JSON.stringify(err.details)}`;
        first ??= shown;
        expect(shown).toBe(first);
      }),
    );
    expect(first).not.toBeNull();
  });

  it('connections = sum over peers of local x remote same-family pairs; names unique and sorted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 3 }), (n, networks) => {
        const eps = Array.from({ length: n + 1 }, (_, i) => meshEndpoint(i, { networks }));
        const p = planCable(eps[0]!, eps.slice(1), { driver: 'libreswan', psk: PSK });
        expect(p.connections).toHaveLength(n * 2 * 2);
        const names = p.connections.map((c) => c.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names).toEqual([...names].sort());
        expect(renderIpsecConf(p).match(/^conn /gm)).toHaveLength(names.length);
        for (const peer of p.peers) expect(peer.mtu).toBe(peer.endpoint.natT ? 1438 : 1446);
        expect(p.mtu).toBe(Math.min(...p.peers.map((x) => x.mtu)));
      }),
      { numRuns: 40 },
    );
  });
});
