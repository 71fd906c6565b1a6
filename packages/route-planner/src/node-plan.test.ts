import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planNode, planNodeRoutes } from './node-plan';
import { canonicalPlan, type Plan, routeKey } from './plan';
import { arbTopology, thrown } from './test-support';
import { createTopologyState, type Topology } from './topology';

function keysUnique(plan: Plan): boolean {
  const keys = plan.routes.map(routeKey);
  return new Set(keys).size === keys.length;
}

describe('planNodeRoutes properties', () => {
  it('no two routes share a table and destination, and every plan is canonical', () => {
    fc.assert(
      fc.property(arbTopology, (t) => {
        const state = createTopologyState(t);
        for (const n of state.nodeNames()) {
          const { plan } = planNode(state, n);
          expect(keysUnique(plan)).toBe(true);
          expect(canonicalPlan(plan)).toEqual(plan);
        }
      }),
    );
  });

  it('P2P: every node reaches every remote P2P node pod CIDR exactly once, through a VTEP that exists (or reports why not)', () => {
    fc.assert(
      fc.property(arbTopology, (t) => {
        const state = createTopologyState(t);
        for (const x of state.nodeNames()) {
          const xi = state.node(x)!;
          if (t.clusters.find((c) => c.name === xi.cluster)!.mode !== 'p2p') continue;
          const { plan, conflicts } = planNode(state, x);
          for (const y of state.nodeNames()) {
            const yi = state.node(y)!;
            if (yi.cluster === xi.cluster || t.clusters.find((c) => c.name === yi.cluster)!.mode !== 'p2p')
              continue;
            const routes = plan.routes.filter((r) => r.dst === yi.podCIDRs[0]);
            const reported = conflicts.some((c) => c.kind === 'overlap' && c.remoteNode === y);
            expect(routes.length + (reported ? 1 : 0), `${x} -> ${y}`).toBe(1);
            if (reported) continue;
            const r = routes[0]!;
            expect(r).toMatchObject({ via: yi.vtep, dev: 'vx-bridge', onlink: true, table: 150 });
            expect(plan.devices.some((d) => d.name === 'vx-bridge' && d.kind === 'vxlan')).toBe(true);
            expect(plan.neighbours).toContainEqual({
              dev: 'vx-bridge',
              dst: yi.vtep,
              lladdr: yi.vtepMAC,
              permanent: true,
            });
            expect(plan.fdb).toContainEqual({ dev: 'vx-bridge', lladdr: yi.vtepMAC, dst: yi.underlayIP });
            expect(plan.fdb).toContainEqual({
              dev: 'vx-bridge',
              lladdr: '00:00:00:00:00:00',
              dst: yi.underlayIP,
            });
          }
          expect(plan.rules).toEqual([{ family: 4, priority: 150, table: 150 }]);
        }
      }),
    );
  });

  it('gateway mode: every remote CIDR goes through the active gateway (or is reported), on the gateway via its cable next hop when it has one', () => {
    fc.assert(
      fc.property(arbTopology, (t) => {
        const state = createTopologyState(t);
        const mode = (c: string) => t.clusters.find((k) => k.name === c)!;
        for (const x of state.nodeNames()) {
          const xi = state.node(x)!;
          const { plan, conflicts } = planNode(state, x);
          const gw = state.gatewayOf(xi.cluster);
          for (const r of t.clusters) {
            if (r.name === xi.cluster || (mode(xi.cluster).mode !== 'gateway' && r.mode !== 'gateway'))
              continue;
            if (gw === undefined) {
              expect(conflicts).toContainEqual({ kind: 'no-gateway', node: x, cluster: xi.cluster });
              continue;
            }
            const g = state.node(gw)!;
            for (const cidr of r.globalCIDRs ?? [...r.podCIDRs, ...(r.serviceCIDRs ?? [])]) {
              const routes = plan.routes.filter((rt) => rt.dst === cidr);
              const reported = conflicts.some(
                (c) => c.kind === 'overlap' && c.cidr === cidr && c.remoteCluster === r.name,
              );
              expect(routes.length + (reported ? 1 : 0)).toBe(1);
              if (reported) continue;
              const hop = t.nodes.find((n) => n.name === x)!.cableNextHops?.[r.name];
              if (gw === x)
                expect(routes[0]).toEqual(
                  hop === undefined
                    ? { family: 4, table: 150, dst: cidr, dev: 'submariner', scope: 'link' }
                    : { family: 4, table: 150, dst: cidr, via: hop, dev: 'submariner', onlink: true },
                );
              else {
                expect(routes[0]).toMatchObject({ via: g.vtep, dev: 'vx-submariner', onlink: true });
                expect(plan.neighbours).toContainEqual({
                  dev: 'vx-submariner',
                  dst: g.vtep,
                  lladdr: g.vtepMAC,
                  permanent: true,
                });
                expect(plan.fdb).toContainEqual({
                  dev: 'vx-submariner',
                  lladdr: g.vtepMAC,
                  dst: g.underlayIP,
                });
              }
            }
          }
        }
      }),
    );
  });

  it('VTEPs are unique pool addresses, MACs are the prefix plus the VTEP bytes, and a snapshot restores them in any order', () => {
    fc.assert(
      fc.property(arbTopology, fc.integer(), (t, seed) => {
        const state = createTopologyState(t);
        const infos = state.nodeNames().map((n) => state.node(n)!);
        expect(new Set(infos.map((i) => i.vtep)).size).toBe(infos.length);
        for (const i of infos) {
          expect(i.vtep.startsWith('240.')).toBe(true);
          const [a, b, c, d] = i.vtep.split('.').map(Number) as [number, number, number, number];
          const hex = (v: number) => v.toString(16).padStart(2, '0');
          expect(i.vtepMAC).toBe(`0e:fe:${hex(a)}:${hex(b)}:${hex(c)}:${hex(d)}`);
        }
        const shuffled = [...t.nodes].sort(
          (x, y) => ((x.name.length * 31 + seed) % 7) - ((y.name.length * 17 + seed) % 5),
        );
        const restored = createTopologyState({
          ...t,
          nodes: shuffled,
          previous: JSON.parse(JSON.stringify(state.snapshot())),
        });
        for (const i of infos) expect(restored.node(i.name)!.vtep).toBe(i.vtep);
      }),
    );
  });
});

describe('planNodeRoutes examples', () => {
  const base: Topology = {
    clusters: [
      { name: 'a', mode: 'gateway', podCIDRs: ['10.1.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] },
      { name: 'b', mode: 'gateway', podCIDRs: ['10.1.0.0/16'], serviceCIDRs: ['10.97.0.0/16'] },
    ],
    nodes: [
      { name: 'a-gw', cluster: 'a', underlayIP: '198.18.0.1', podCIDRs: ['10.1.1.0/24'], gateway: true },
      { name: 'a-1', cluster: 'a', underlayIP: '198.18.0.2', podCIDRs: ['10.1.2.0/24'], mtu: 9000 },
    ],
  };

  it('reports an overlapping remote CIDR instead of dropping it silently, or fails with CIDR_OVERLAP', () => {
    const r = planNodeRoutes(base, 'a-1');
    expect(r.plan.routes.map((x) => x.dst)).toEqual(['10.97.0.0/16']);
    expect(r.conflicts).toEqual([
      {
        kind: 'overlap',
        node: 'a-1',
        remoteCluster: 'b',
        cidr: '10.1.0.0/16',
        overlaps: { cluster: 'a', cidr: '10.1.0.0/16' },
      },
    ]);
    const e = thrown(() => planNodeRoutes({ ...base, options: { onOverlap: 'throw' } }, 'a-1'));
    expect(e.code).toBe('CIDR_OVERLAP');
    expect(e.message).toContain('10.1.0.0/16');
  });

  it('uses Submariner defaults for the gateway VXLAN device (vx-submariner, VNI 100, port 4800, MTU - 50)', () => {
    const { plan } = planNodeRoutes(base, 'a-1');
    expect(plan.devices).toEqual([
      {
        kind: 'vxlan',
        name: 'vx-submariner',
        vni: 100,
        port: 4800,
        local: '198.18.0.2',
        learning: false,
        mtu: 8950,
        mac: '0e:fe:f0:00:00:01',
      },
    ]);
    const gw = planNodeRoutes(base, 'a-gw').plan;
    expect(gw.fdb).toEqual([
      { dev: 'vx-submariner', lladdr: '00:00:00:00:00:00', dst: '198.18.0.2' },
      { dev: 'vx-submariner', lladdr: '0e:fe:f0:00:00:01', dst: '198.18.0.2' },
    ]);
  });

  it('over an IPv6 underlay the VXLAN device is 20 bytes smaller (the kernel clamps it to MTU - 70)', () => {
    const v6: Topology = {
      clusters: [
        { name: 'a', mode: 'p2p', podCIDRs: ['2001:db8:10::/56'] },
        { name: 'b', mode: 'p2p', podCIDRs: ['2001:db8:20::/56'] },
      ],
      nodes: [
        { name: 'a-1', cluster: 'a', underlayIP: '2001:db8::1', podCIDRs: ['2001:db8:10:1::/64'] },
        { name: 'b-1', cluster: 'b', underlayIP: '2001:db8::2', podCIDRs: ['2001:db8:20:1::/64'] },
      ],
      options: { vtepCIDR: '2001:db8:240::/112' },
    };
    expect(planNodeRoutes(v6, 'a-1').plan.devices[0]).toMatchObject({ local: '2001:db8::1', mtu: 1430 });
    const wider = { ...v6, options: { ...v6.options, vxlanOverhead: 60 } };
    expect(planNodeRoutes(wider, 'a-1').plan.devices[0]).toMatchObject({ mtu: 1420 });
  });

  it('node MTU floor: the VXLAN device keeps at least 576 bytes, counting 20 more over an IPv6 underlay', () => {
    const topo = (underlayIP: string, mtu: number): Topology => ({
      clusters: [
        { name: 'a', mode: 'p2p', podCIDRs: ['10.1.0.0/16'] },
        { name: 'b', mode: 'p2p', podCIDRs: ['10.2.0.0/16'] },
      ],
      nodes: [
        { name: 'a-1', cluster: 'a', underlayIP, podCIDRs: ['10.1.1.0/24'], mtu },
        { name: 'b-1', cluster: 'b', underlayIP: '198.18.0.9', podCIDRs: ['10.2.1.0/24'] },
      ],
    });
    const device = (t: Topology) => planNodeRoutes(t, 'a-1').plan.devices[0];
    expect(device(topo('198.18.0.1', 626))).toMatchObject({ mtu: 576 });
    expect(thrown(() => createTopologyState(topo('198.18.0.1', 625))).details).toMatchObject({
      field: 'node "a-1".mtu',
      value: 625,
    });
    expect(device(topo('2001:db8::1', 646))).toMatchObject({ mtu: 576 });
    const e = thrown(() => createTopologyState(topo('2001:db8::1', 645)));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.details).toMatchObject({ field: 'node "a-1".mtu', value: 645 });
    expect(e.message).toContain('646');
  });

  it('refuses an IPv6 VTEP CIDR wider than /96: the VTEP MAC holds only the last 32 bits, so two nodes could share one', () => {
    const v6 = (vtepCIDR: string, allocations: Array<readonly [string, string]>): Topology => ({
      clusters: [
        { name: 'a', mode: 'p2p', podCIDRs: ['2001:db8:10::/56'] },
        { name: 'b', mode: 'p2p', podCIDRs: ['2001:db8:20::/56'] },
      ],
      nodes: [
        { name: 'a-1', cluster: 'a', underlayIP: '2001:db8::1', podCIDRs: ['2001:db8:10:1::/64'] },
        { name: 'b-1', cluster: 'b', underlayIP: '2001:db8::2', podCIDRs: ['2001:db8:20:1::/64'] },
      ],
      options: { vtepCIDR },
      previous: { version: 1, vteps: { version: 1, pool: 'vtep', subnet: vtepCIDR, allocations } },
    });
    // Restored VTEPs that differ only above the last 32 bits would both get the MAC 0e:fe:00:00:00:01.
    const wide = v6('2001:db8:240::/64', [
      ['a-1', '2001:db8:240:0:1::1'],
      ['b-1', '2001:db8:240:0:2::1'],
    ]);
    const e = thrown(() => createTopologyState(wide));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('2001:db8:240::/64');
    expect(e.details).toMatchObject({ field: 'options.vtepCIDR', value: '2001:db8:240::/64' });
    const { previous: _, ...fresh } = wide;
    expect(thrown(() => createTopologyState(fresh)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => createTopologyState({ ...fresh, options: { vtepCIDR: '2001:db8::/95' } })).code).toBe(
      'INVALID_ARGUMENT',
    );
    // At /96 the last 32 bits are the whole host part: distinct VTEPs, distinct MACs.
    const ok = createTopologyState(
      v6('2001:db8:240::/96', [
        ['a-1', '2001:db8:240::1:0'],
        ['b-1', '2001:db8:240::1'],
      ]),
    );
    expect([ok.node('a-1')!.vtepMAC, ok.node('b-1')!.vtepMAC]).toEqual([
      '0e:fe:00:01:00:00',
      '0e:fe:00:00:00:01',
    ]);
  });

  it('honours options for devices, table, rule priority and VTEP CIDR', () => {
    const { plan } = planNodeRoutes(
      {
        ...base,
        options: {
          gatewayVxlan: { name: 'vx-gw', vni: 7, port: 4790 },
          table: 77,
          rulePriority: 70,
          vtepCIDR: '100.64.0.0/24',
        },
      },
      'a-1',
    );
    expect(plan.devices[0]).toMatchObject({ name: 'vx-gw', vni: 7, port: 4790 });
    expect(plan.rules).toEqual([{ family: 4, priority: 70, table: 77 }]);
    expect(plan.addresses).toEqual([{ dev: 'vx-gw', address: '100.64.0.1/32', family: 4 }]);
  });

  it('rejects bad input with typed errors', () => {
    expect(thrown(() => planNodeRoutes(base, 'nope')).code).toBe('UNKNOWN_NODE');
    expect(
      thrown(() => planNodeRoutes({ ...base, nodes: [...base.nodes, { ...base.nodes[1]!, name: 'x' }] }, 'x'))
        .code,
    ).toBe('DUPLICATE_NAME');
    expect(
      thrown(() =>
        planNodeRoutes({ ...base, nodes: [{ ...base.nodes[0]!, podCIDRs: ['10.9.0.0/24'] }] }, 'a-gw'),
      ).code,
    ).toBe('INVALID_TOPOLOGY');
    expect(
      thrown(() => planNodeRoutes({ ...base, nodes: [{ ...base.nodes[0]!, cluster: 'zz' }] }, 'a-gw')).code,
    ).toBe('UNKNOWN_CLUSTER');
    const third = { name: 'a-2', cluster: 'a', underlayIP: '198.18.0.3', podCIDRs: ['10.1.3.0/24'] };
    expect(
      thrown(() =>
        planNodeRoutes(
          { ...base, nodes: [...base.nodes, third], options: { vtepCIDR: '240.0.0.0/30' } },
          'a-1',
        ),
      ).code,
    ).toBe('VTEP_POOL_EXHAUSTED');
    expect(thrown(() => planNodeRoutes({ ...base, options: { vtepMACPrefix: '01:00' } }, 'a-1')).code).toBe(
      'INVALID_MAC',
    );
    // One node may hold both devices: the kernel refuses a second VXLAN device with the same VNI and port.
    const same = { gatewayVxlan: { vni: 4097, port: 4789 } };
    expect(thrown(() => planNodeRoutes({ ...base, options: same }, 'a-1')).code).toBe('INVALID_ARGUMENT');
  });
});
