import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatewayEndpoint } from './endpoint';
import { planCable } from './plan';
import { meshEndpoint, thrown } from './test-support';
import { renderVxlanBridgeBatch, renderVxlanIpBatch } from './vxlan';

const a: GatewayEndpoint = {
  clusterId: 'east',
  privateIp: '198.18.0.1',
  privateSubnet: '198.18.0.0/24',
  subnets: ['10.10.0.0/16'],
};
const b: GatewayEndpoint = {
  clusterId: 'west',
  privateIp: '198.18.0.2',
  privateSubnet: '198.18.0.0/24',
  subnets: ['10.20.0.0/16', '100.64.2.0/24'],
};

describe('VXLAN plan and renderers', () => {
  it('Submariner defaults: vxlan-tunnel, VNI 1000, port 4500, learning off, VTEP 241.x.y.z/8 from the private IP', () => {
    const p = planCable(a, b, { driver: 'vxlan', sourceIp: '10.10.0.1' });
    expect(p).toMatchObject({
      interfaceName: 'vxlan-tunnel',
      vni: 1000,
      port: 4500,
      learning: false,
      local: '198.18.0.1',
      vtep: '241.18.0.1/8',
      mtu: 1450,
    });
    expect(p.peers[0]!.remoteVtep).toBe('241.18.0.2');
    expect(
      renderVxlanIpBatch(p),
    ).toBe(`link add name vxlan-tunnel type vxlan id 1000 local 198.18.0.1 dstport 4500 nolearning
link set dev vxlan-tunnel mtu 1450 up
addr replace 241.18.0.1/8 dev vxlan-tunnel
route replace 10.20.0.0/16 via 241.18.0.2 dev vxlan-tunnel onlink src 10.10.0.1
route replace 100.64.2.0/24 via 241.18.0.2 dev vxlan-tunnel onlink src 10.10.0.1
`);
    expect(renderVxlanBridgeBatch(p)).toBe('fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst 198.18.0.2\n');
  });

  it('a remote on another port gets it in its FDB entry; explicit vtepIp wins over derivation', () => {
    const p = planCable(
      a,
      { ...b, port: 4789, vtepIp: '241.0.0.9' },
      { driver: 'vxlan', vni: 42, interfaceName: 'vx0' },
    );
    expect(renderVxlanBridgeBatch(p)).toBe('fdb append 00:00:00:00:00:00 dev vx0 dst 198.18.0.2 port 4789\n');
    expect(p.routes[0]!.via).toBe('241.0.0.9');
    expect(renderVxlanIpBatch(p)).toContain('type vxlan id 42 local 198.18.0.1 dstport 4500 nolearning');
  });

  it('IPv6 underlay: MTU 1430, VTEPs in fd00:100:200::/96', () => {
    const l6: GatewayEndpoint = { clusterId: 'east', privateIp: '2001:db8::a:1', subnets: ['fd00:10::/64'] };
    const r6: GatewayEndpoint = { clusterId: 'west', privateIp: '2001:db8::a:2', subnets: ['fd00:20::/64'] };
    const p = planCable(l6, r6, { driver: 'vxlan', sameNetwork: true });
    expect(p.mtu).toBe(1430);
    expect(p.vtep).toBe('fd00:100:200::a:1/96');
    expect(p.peers[0]!.remoteVtep).toBe('fd00:100:200::a:2');
  });

  it('an interface name that is also an `ip link` keyword ("up", "mtu", "help") is passed after `name`', () => {
    // `ip link add up type vxlan ...` reads "up" as the flag and creates "vxlan0"; "mtu"/"help" fail.
    for (const name of ['up', 'mtu', 'help', 'type']) {
      const p = planCable(a, b, { driver: 'vxlan', interfaceName: name });
      expect(renderVxlanIpBatch(p).split('\n')[0]).toBe(
        `link add name ${name} type vxlan id 1000 local 198.18.0.1 dstport 4500 nolearning`,
      );
    }
  });

  it('two gateways that would derive the same VTEP: VTEP_CONFLICT naming both', () => {
    const c: GatewayEndpoint = { clusterId: 'north', privateIp: '198.19.0.2', subnets: ['10.30.0.0/16'] };
    // 198.18.0.2 and 198.19.0.2 keep different low 24 bits (241.18.0.2, 241.19.0.2): no conflict.
    expect(planCable(a, [b, c], { driver: 'vxlan', sameNetwork: true }).peers).toHaveLength(2);
    const d = { ...c, privateIp: '199.18.0.2' };
    const e = thrown(() => planCable(a, [b, d], { driver: 'vxlan', sameNetwork: true }));
    expect(e.code).toBe('VTEP_CONFLICT');
    expect(e.message).toBe(
      'clusters "north" and "west" would both use VTEP address 241.18.0.2; give one a vtepIp',
    );
    expect(thrown(() => planCable(a, { ...b, vtepIp: '10.0.0.1' }, { driver: 'vxlan' })).code).toBe(
      'VTEP_CONFLICT',
    );
  });

  it('two clusters at one endpoint address and port: ENDPOINT_CONFLICT naming both (their FDB entries would be one)', () => {
    // Both behind one NAT at 192.0.2.9:4500: the kernel folds the two `fdb append`s into one entry and a
    // failover's `fdb del` for one cluster would cut the other off.
    const n: GatewayEndpoint = {
      clusterId: 'north',
      privateIp: '198.19.1.2',
      publicIp: '192.0.2.9',
      subnets: ['10.30.0.0/16'],
    };
    const s: GatewayEndpoint = {
      clusterId: 'south',
      privateIp: '198.19.2.2',
      publicIp: '192.0.2.9',
      subnets: ['10.40.0.0/16'],
    };
    const e = thrown(() => planCable(a, [s, n], { driver: 'vxlan' }));
    expect(e.code).toBe('ENDPOINT_CONFLICT');
    expect(e.message).toBe(
      'clusters "north" and "south" would both be reached at 192.0.2.9:4500; their FDB entries would be one (give each its own address or port)',
    );
    expect(e.details).toEqual({ address: '192.0.2.9', port: 4500, a: 'north', b: 'south' });
    // Same private IP under sameNetwork, IPv6 in brackets.
    const l6: GatewayEndpoint = { clusterId: 'east', privateIp: '2001:db8::1', subnets: ['fd00:10::/64'] };
    const r6 = (id: string, sub: string): GatewayEndpoint => ({
      clusterId: id,
      privateIp: '2001:db8::2',
      vtepIp: `fd00:100:200::${id === 'x' ? 'a' : 'b'}`,
      subnets: [sub],
    });
    expect(
      thrown(() =>
        planCable(l6, [r6('x', 'fd00:20::/64'), r6('y', 'fd00:30::/64')], {
          driver: 'vxlan',
          sameNetwork: true,
        }),
      ).message,
    ).toContain('at [2001:db8::2]:4500');
    // One address with two ports (port forwarding behind one NAT) is two endpoints: two FDB entries.
    const p = planCable(a, [n, { ...s, port: 4501 }], { driver: 'vxlan' });
    expect(renderVxlanBridgeBatch(p)).toBe(
      'fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst 192.0.2.9\nfdb append 00:00:00:00:00:00 dev vxlan-tunnel dst 192.0.2.9 port 4501\n',
    );
  });

  it('one FDB entry per peer and one route per remote subnet, for any mesh, in canonical order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), (n, networks) => {
        const eps = Array.from({ length: n + 1 }, (_, i) => meshEndpoint(i, { networks }));
        const p = planCable(eps[0]!, eps.slice(1), { driver: 'vxlan' });
        expect(p.fdb.map((f) => f.clusterId)).toEqual(p.peers.map((x) => x.clusterId));
        expect(p.routes).toHaveLength(2 * n);
        const bridge = renderVxlanBridgeBatch(p).trim().split('\n');
        expect(bridge).toHaveLength(n);
        const ip = renderVxlanIpBatch(p).trim().split('\n');
        expect(ip).toHaveLength(3 + 2 * n);
        const vteps = new Set([p.vtep.split('/')[0], ...p.peers.map((x) => x.remoteVtep)]);
        expect(vteps.size).toBe(n + 1);
      }),
      { numRuns: 40 },
    );
  });
});
