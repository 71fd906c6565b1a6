import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatewayEndpoint } from './endpoint';
import { planFailover, renderFailover } from './failover';
import { type CableOptions, planCable } from './plan';
import { meshEndpoint, randomKey, thrown } from './test-support';

const PRIV = randomKey();
const keys = Array.from({ length: 64 }, () => randomKey());
const PSK = 'correct-horse-battery-staple';
const PSK_WG = randomKey();

/** Cluster i's gateway moved to another node: new private IP (same network), new public IP, new key. */
function moved(ep: GatewayEndpoint, i: number): GatewayEndpoint {
  return {
    ...ep,
    node: `${ep.node}-b`,
    privateIp: ep.privateIp.replace(/\.(\d+)$/, (_m, x) => `.${(Number(x) + 100) % 256}`),
    publicIp: `192.0.2.${200 + (i % 50)}`,
    ...(ep.publicKey === undefined ? {} : { publicKey: keys[(i + 32) % 64]! }),
  };
}

const drivers: CableOptions[] = [
  { driver: 'wireguard', privateKey: PRIV },
  { driver: 'vxlan' },
  { driver: 'libreswan', psk: PSK },
];

describe('planFailover', () => {
  it('WireGuard: the moved peer is removed under its old key and set with the new key and endpoint', () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1, { publicKey: keys[1]! });
    const c = meshEndpoint(2, { publicKey: keys[2]! });
    const before = planCable(local, [b, c], drivers[0]!);
    const after = planCable(local, [moved(b, 1), c], drivers[0]!);
    const f = planFailover(before, after);
    expect(f.moved).toEqual([
      {
        clusterId: 'c1',
        fromNode: 'gw-1',
        toNode: 'gw-1-b',
        from: before.peers[0]!.endpoint,
        to: after.peers[0]!.endpoint,
      },
    ]);
    expect(f.steps.map((s) => s.op)).toEqual(['wg-remove-peer', 'wg-set-peer']);
    const r = renderFailover(f, 4);
    expect(r.wgRemovePeers).toEqual([keys[1]]);
    expect(r.wgAddconf.reveal()).toBe(`[Peer]
PublicKey = ${keys[33]}
AllowedIPs = 10.0.1.0/24, 100.64.1.0/24
Endpoint = 198.18.0.102:4500
PersistentKeepalive = 10
`);
    expect(r.ipBatch).toBe('');
  });

  it('the rendered failover can be logged whole: the peer text with its PSK is a Secret', () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1, { publicKey: keys[1]! });
    const opts: CableOptions = { driver: 'wireguard', privateKey: PRIV, presharedKeys: { c1: PSK_WG } };
    const r = renderFailover(
      planFailover(planCable(local, [b], opts), planCable(local, [moved(b, 1)], opts)),
      4,
    );
    expect(r.wgAddconf.reveal()).toContain(`PresharedKey = ${PSK_WG}`);
    expect(JSON.stringify(r)).not.toContain(PSK_WG);
    expect(String(r.wgAddconf)).not.toContain(PSK_WG);
  });

  it('a changed private key or PSK is NOT_A_FAILOVER, although both plans print it as [redacted]', () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1, { publicKey: keys[1]! });
    const wgBefore = planCable(local, [b], { driver: 'wireguard', privateKey: PRIV });
    const wgAfter = planCable(local, [moved(b, 1)], { driver: 'wireguard', privateKey: keys[5]! });
    expect(JSON.stringify(wgBefore).includes(PRIV)).toBe(false);
    expect(thrown(() => planFailover(wgBefore, wgAfter)).code).toBe('NOT_A_FAILOVER');
    const ipsecBefore = planCable(local, [meshEndpoint(1)], { driver: 'libreswan', psk: PSK });
    const ipsecAfter = planCable(local, [moved(meshEndpoint(1), 1)], {
      driver: 'libreswan',
      psk: `${PSK}-2`,
    });
    const e = thrown(() => planFailover(ipsecBefore, ipsecAfter));
    expect(e.code).toBe('NOT_A_FAILOVER');
    expect(`${e.message} ${JSON.stringify(e.details)}`).not.toContain(PSK);
    // The same secrets on both sides still make a failover.
    const same = planCable(local, [moved(b, 1)], { driver: 'wireguard', privateKey: PRIV });
    expect(planFailover(wgBefore, same).moved).toHaveLength(1);
  });

  it('VXLAN: the FDB entry moves and the routes get the new VTEP; other peers are untouched', () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1);
    const before = planCable(local, [b, meshEndpoint(2)], drivers[1]!);
    const after = planCable(local, [moved(b, 1), meshEndpoint(2)], drivers[1]!);
    const r = renderFailover(planFailover(before, after), 4);
    expect(r.bridgeBatch).toBe(`fdb del 00:00:00:00:00:00 dev vxlan-tunnel dst 198.18.0.2
fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst 198.18.0.102
`);
    expect(r.ipBatch).toBe(`route replace 10.0.1.0/24 via 241.18.0.102 dev vxlan-tunnel onlink
route replace 100.64.1.0/24 via 241.18.0.102 dev vxlan-tunnel onlink
`);
  });

  it("libreswan: the moved peer's connections are deleted and added under the new names", () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1);
    const f = planFailover(planCable(local, b, drivers[2]!), planCable(local, moved(b, 1), drivers[2]!));
    const r = renderFailover(f, 4);
    expect(r.ipsecDelete).toEqual([
      'submariner-cable-c1-198-18-0-2-v4-0-0',
      'submariner-cable-c1-198-18-0-2-v4-0-1',
      'submariner-cable-c1-198-18-0-2-v4-1-0',
      'submariner-cable-c1-198-18-0-2-v4-1-1',
    ]);
    expect(r.ipsecAdd).toHaveLength(4);
    expect(r.ipsecAdd[0]).toBe('submariner-cable-c1-198-18-0-102-v4-0-0');
  });

  it('anything but a gateway move is NOT_A_FAILOVER', () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1, { publicKey: keys[1]! });
    const before = planCable(local, b, drivers[0]!);
    const subnets = planCable(local, { ...b, subnets: ['10.9.0.0/16'] }, drivers[0]!);
    expect(thrown(() => planFailover(before, subnets)).message).toBe(
      'not a gateway failover: peer "c1" changed more than its gateway',
    );
    const port = planCable(local, b, { driver: 'wireguard', privateKey: PRIV, listenPort: 51820 });
    expect(thrown(() => planFailover(before, port)).code).toBe('NOT_A_FAILOVER');
    expect(thrown(() => planFailover(before, planCable(local, b, drivers[1]!))).message).toContain(
      'driver changed',
    );
    const more = planCable(local, [b, meshEndpoint(2, { publicKey: keys[2]! })], drivers[0]!);
    expect(thrown(() => planFailover(before, more)).message).toContain('peer clusters changed');
  });

  it('a change on the local side is NOT_A_FAILOVER, even where only derived lists (conns, routes) show it', () => {
    const local = meshEndpoint(0);
    const b = meshEndpoint(1);
    const ipsec = drivers[2]!;
    const before = planCable(local, b, ipsec);
    const changes: [string, () => unknown][] = [
      ['libreswan local IP', () => planCable({ ...local, privateIp: '198.18.0.99' }, b, ipsec)],
      ['libreswan local port', () => planCable({ ...local, port: 4501 }, b, ipsec)],
      ['libreswan link MTU', () => planCable(local, b, { ...ipsec, linkMtu: 1400 })],
      ['libreswan forced encapsulation', () => planCable(local, b, { ...ipsec, forceEncapsulation: true })],
    ];
    for (const [what, after] of changes) {
      expect(thrown(() => planFailover(before, after() as typeof before)).code, what).toBe('NOT_A_FAILOVER');
    }
    const vxBefore = planCable(local, b, drivers[1]!);
    const vxAfter = planCable(local, b, { driver: 'vxlan', sourceIp: '10.0.0.1' });
    expect(thrown(() => planFailover(vxBefore, vxAfter)).code).toBe('NOT_A_FAILOVER');
    // A move that crosses NAT changes the moved peer's MTU and encapsulation: still a failover.
    const far = { ...moved(b, 1), privateIp: '198.19.7.7', privateSubnet: '198.19.0.0/16' };
    const f = planFailover(before, planCable(local, far, ipsec));
    expect(f.moved.map((m) => [m.clusterId, m.to.natT])).toEqual([['c1', true]]);
    const added = f.steps.flatMap((s) => (s.op === 'ipsec-add' ? [s.connection] : []));
    expect(added.map((c) => [c.encapsulation, c.mtu])).toEqual(Array(4).fill(['yes', 1438]));
  });

  it("in any mesh, moving some clusters' gateways changes exactly those peers in every other cluster's plan", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        (n, d, networks, flips) => {
          const eps = Array.from({ length: n }, (_, i) => meshEndpoint(i, { publicKey: keys[i]!, networks }));
          const after = eps.map((ep, i) => (flips[i] ? moved(ep, i) : ep));
          for (let me = 0; me < n; me++) {
            if (flips[me]) continue; // the moved clusters re-plan from scratch on their new node
            const others = (xs: GatewayEndpoint[]) => xs.filter((_, i) => i !== me);
            const f = planFailover(
              planCable(eps[me]!, others(eps), drivers[d]!),
              planCable(eps[me]!, others(after), drivers[d]!),
            );
            const expected = eps
              .map((e, i) => (i !== me && flips[i] ? e.clusterId : null))
              .filter((x) => x !== null)
              .sort();
            expect(f.moved.map((m) => m.clusterId)).toEqual(expected);
            expect(new Set(f.steps.map((s) => s.clusterId))).toEqual(new Set(expected));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
