import { describe, expect, it } from 'vitest';
import { planNodeRoutes } from './node-plan';
import { canonicalPlan, emptyPlan, type Route } from './plan';
import { thrown } from './test-support';
import { createTopologyState, type NodeSpec, type Topology, type TopologyState } from './topology';
import { type TopologyChange, updateTopology } from './update';

// Three gateway clusters; home's gateway has a VXLAN cable (an L2 device) toward away and an L3 one's
// behaviour (no next hop) toward far.
const topology: Topology = {
  clusters: [
    { name: 'home', mode: 'gateway', podCIDRs: ['10.40.0.0/16'], globalCIDRs: ['242.0.0.0/16'] },
    { name: 'away', mode: 'gateway', podCIDRs: ['10.30.0.0/16'], globalCIDRs: ['242.1.0.0/16'] },
    { name: 'far', mode: 'gateway', podCIDRs: ['10.50.0.0/16'], serviceCIDRs: ['10.51.0.0/16'] },
  ],
  nodes: [
    {
      name: 'home-gw',
      cluster: 'home',
      underlayIP: '198.18.1.1',
      podCIDRs: ['10.40.1.0/24'],
      gateway: true,
      cableDevice: 'vxlan-tunnel',
      cableNextHops: { away: '241.0.0.3' },
    },
    {
      name: 'home-sb',
      cluster: 'home',
      underlayIP: '198.18.1.2',
      podCIDRs: ['10.40.2.0/24'],
      cableDevice: 'vxlan-tunnel',
      cableNextHops: { away: '241.0.0.3', far: '241.0.0.9' },
    },
    { name: 'home-1', cluster: 'home', underlayIP: '198.18.1.3', podCIDRs: ['10.40.3.0/24'] },
    { name: 'away-gw', cluster: 'away', underlayIP: '198.18.2.1', podCIDRs: ['10.30.1.0/24'], gateway: true },
  ],
};

const routesOf = (s: Topology | TopologyState, node: string) => planNodeRoutes(s, node).plan.routes;
const link = (dst: string, dev = 'vxlan-tunnel'): Route => ({
  family: 4,
  table: 150,
  dst,
  dev,
  scope: 'link',
});
const via = (dst: string, hop: string, dev = 'vxlan-tunnel'): Route => ({
  family: 4,
  table: 150,
  dst,
  via: hop,
  dev,
  onlink: true,
});

function withNode(name: string, patch: Partial<NodeSpec>): Topology {
  return { ...topology, nodes: topology.nodes.map((n) => (n.name === name ? { ...n, ...patch } : n)) };
}

describe('cableNextHops in plans', () => {
  it('the gateway routes a listed cluster via its next hop onlink on the cable, the others as link routes', () => {
    expect(routesOf(topology, 'home-gw')).toEqual([
      link('10.50.0.0/16'),
      link('10.51.0.0/16'),
      via('242.1.0.0/16', '241.0.0.3'),
    ]);
    const plan = planNodeRoutes(topology, 'home-gw').plan;
    expect(canonicalPlan(plan)).toEqual(plan);
  });

  it('nodes that are not the active gateway ignore them: workers and the standby route via the gateway VTEP', () => {
    const state = createTopologyState(topology);
    const gwVtep = state.node('home-gw')!.vtep;
    for (const n of ['home-sb', 'home-1'])
      expect(routesOf(state, n)).toEqual(
        ['10.50.0.0/16', '10.51.0.0/16', '242.1.0.0/16'].map((d) => via(d, gwVtep, 'vx-submariner')),
      );
  });

  it('addresses come out canonical, and an empty record is the same as none', () => {
    const v6: Topology = {
      clusters: [
        { name: 'a', mode: 'gateway', podCIDRs: ['fd10::/56'] },
        { name: 'b', mode: 'gateway', podCIDRs: ['fd20::/56'] },
      ],
      nodes: [
        {
          name: 'a-gw',
          cluster: 'a',
          underlayIP: '2001:db8::1',
          podCIDRs: ['fd10:0:0:1::/64'],
          gateway: true,
          cableNextHops: { b: 'FD00:100:200:0::2' },
        },
      ],
      options: { vtepCIDR: 'fd00:240::/112' },
    };
    expect(routesOf(v6, 'a-gw')).toEqual([
      { family: 6, table: 150, dst: 'fd20::/56', via: 'fd00:100:200::2', dev: 'submariner', onlink: true },
    ]);
    expect(routesOf(withNode('home-gw', { cableNextHops: {} }), 'home-gw')).toEqual([
      link('10.50.0.0/16'),
      link('10.51.0.0/16'),
      link('242.1.0.0/16'),
    ]);
  });

  it('rejects bad next hops with a typed error naming the value', () => {
    const bad = (cableNextHops: unknown) =>
      thrown(() => createTopologyState(withNode('home-sb', { cableNextHops: cableNextHops as never })));
    let e = bad({ nowhere: '241.0.0.3' });
    expect([e.code, e.details.cluster]).toEqual(['UNKNOWN_CLUSTER', 'nowhere']);
    expect(e.message).toContain('"nowhere"');
    e = bad({ home: '241.0.0.3' });
    expect([e.code, e.details.cluster]).toEqual(['INVALID_ARGUMENT', 'home']);
    e = bad({ away: '241.0.0' });
    expect([e.code, e.details.value]).toEqual(['INVALID_ADDRESS', '241.0.0']);
    expect(e.message).toContain('"241.0.0"');
    e = bad({ away: 'fd00::3' });
    expect([e.code, e.details.value]).toEqual(['INVALID_TOPOLOGY', 'fd00::3']);
    for (const hop of ['0.0.0.0', '127.0.0.1', '224.0.0.5', '255.255.255.255']) {
      e = bad({ away: hop });
      expect([e.code, e.details.value], hop).toEqual(['INVALID_ADDRESS', hop]);
      expect(e.message).toContain(hop);
    }
    for (const v of [['241.0.0.3'], '241.0.0.3', null]) expect(bad(v).code).toBe('INVALID_ARGUMENT');
    expect(bad({ away: 7 }).code).toBe('INVALID_ADDRESS');
    expect(bad({ away: 'x' }).details.field).toBe('node "home-sb".cableNextHops["away"]');
  });
});

describe('cableNextHops in updateTopology', () => {
  it('cable-next-hops: the remote gateway moved; only the gateway route toward it is replaced', () => {
    const state = createTopologyState(topology);
    const before = routesOf(state, 'home-gw');
    const { state: next, deltas } = updateTopology(state, {
      kind: 'cable-next-hops',
      node: 'home-gw',
      cableNextHops: { away: '241.0.0.4', far: '241.0.0.9' },
    });
    expect(deltas.map((d) => d.node)).toEqual(['home-gw']);
    const d = deltas[0]!.diff;
    expect([d.delete, d.add]).toEqual([emptyPlan(), emptyPlan()]);
    expect(d.replace).toEqual({
      ...emptyPlan(),
      routes: [
        via('10.50.0.0/16', '241.0.0.9'),
        via('10.51.0.0/16', '241.0.0.9'),
        via('242.1.0.0/16', '241.0.0.4'),
      ],
    });
    expect(next.nodes.get('home-gw')!.spec.cableNextHops).toEqual({ away: '241.0.0.4', far: '241.0.0.9' });
    // The old state is untouched; clearing the next hops goes back to link routes.
    expect(routesOf(state, 'home-gw')).toEqual(before);
    const cleared = updateTopology(next, { kind: 'cable-next-hops', node: 'home-gw', cableNextHops: {} });
    expect(routesOf(cleared.state, 'home-gw')).toEqual([
      link('10.50.0.0/16'),
      link('10.51.0.0/16'),
      link('242.1.0.0/16'),
    ]);
    expect(cleared.state.nodes.get('home-gw')!.spec).not.toHaveProperty('cableNextHops');
  });

  it("a standby's next hops stay on the node; the cable-next-hops of a non-gateway changes no plan", () => {
    const state = createTopologyState(topology);
    const { deltas } = updateTopology(state, {
      kind: 'cable-next-hops',
      node: 'home-1',
      cableNextHops: { away: '241.0.0.3' },
    });
    expect(deltas).toEqual([]);
    const promoted = updateTopology(state, { kind: 'gateway-change', cluster: 'home', node: 'home-sb' });
    expect(routesOf(promoted.state, 'home-sb')).toEqual([
      via('10.50.0.0/16', '241.0.0.9'),
      via('10.51.0.0/16', '241.0.0.9'),
      via('242.1.0.0/16', '241.0.0.3'),
    ]);
  });

  it('gateway-change may carry the new gateway next hops: its delta adds them, and they replace its spec ones', () => {
    const state = createTopologyState(topology);
    const { state: next, deltas } = updateTopology(state, {
      kind: 'gateway-change',
      cluster: 'home',
      node: 'home-1',
      cableNextHops: { away: '241.0.0.4' },
    });
    const d = deltas.find((x) => x.node === 'home-1')!.diff;
    expect(d.replace.routes).toEqual([
      link('10.50.0.0/16', 'submariner'),
      link('10.51.0.0/16', 'submariner'),
      via('242.1.0.0/16', '241.0.0.4', 'submariner'),
    ]);
    expect(next.nodes.get('home-1')!.spec).toMatchObject({
      gateway: true,
      cableNextHops: { away: '241.0.0.4' },
    });
    // The home-gw keeps its own, unused while it stands by.
    expect(next.nodes.get('home-gw')!.spec.cableNextHops).toEqual({ away: '241.0.0.3' });
  });

  it("a cluster that leaves takes the next hops toward it along, so the state's specs still rebuild it", () => {
    const state = createTopologyState(topology);
    const { state: next } = updateTopology(state, { kind: 'cluster-leave', name: 'away' });
    expect(next.nodes.get('home-gw')!.spec).not.toHaveProperty('cableNextHops');
    expect(next.nodes.get('home-sb')!.spec.cableNextHops).toEqual({ far: '241.0.0.9' });
    const rebuilt = createTopologyState({
      clusters: next.clusterNames().map((c) => next.clusters.get(c)!.spec),
      nodes: next.nodeNames().map((n) => next.nodes.get(n)!.spec),
      previous: next.snapshot(),
    });
    expect(routesOf(rebuilt, 'home-gw')).toEqual(routesOf(next, 'home-gw'));
  });

  it('bad next hops in a change throw typed errors and leave the state as it was', () => {
    const state = createTopologyState(topology);
    const snap = JSON.stringify(state.snapshot());
    const plans = () => JSON.stringify(state.nodeNames().map((n) => planNodeRoutes(state, n)));
    const before = plans();
    const code = (change: TopologyChange) => thrown(() => updateTopology(state, change)).code;
    expect(code({ kind: 'cable-next-hops', node: 'nope', cableNextHops: {} })).toBe('UNKNOWN_NODE');
    expect(code({ kind: 'cable-next-hops', node: 'home-gw', cableNextHops: { mars: '241.0.0.1' } })).toBe(
      'UNKNOWN_CLUSTER',
    );
    expect(code({ kind: 'cable-next-hops', node: 'home-gw', cableNextHops: { away: 'x' } })).toBe(
      'INVALID_ADDRESS',
    );
    expect(code({ kind: 'cable-next-hops', node: 'home-gw' } as never)).toBe('INVALID_ARGUMENT');
    expect(
      code({ kind: 'gateway-change', cluster: 'home', node: null, cableNextHops: { away: '241.0.0.4' } }),
    ).toBe('INVALID_ARGUMENT');
    expect(
      code({ kind: 'gateway-change', cluster: 'home', node: 'home-1', cableNextHops: { home: '241.0.0.4' } }),
    ).toBe('INVALID_ARGUMENT');
    const join = (cableNextHops: Record<string, string>): TopologyChange => ({
      kind: 'node-join',
      node: {
        name: 'home-2',
        cluster: 'home',
        underlayIP: '198.18.1.9',
        podCIDRs: ['10.40.9.0/24'],
        cableNextHops,
      },
    });
    expect(code(join({ mars: '241.0.0.1' }))).toBe('UNKNOWN_CLUSTER');
    expect(
      code({
        kind: 'cluster-join',
        cluster: { name: 'new', mode: 'gateway', podCIDRs: ['10.60.0.0/16'] },
        nodes: [
          {
            name: 'new-gw',
            cluster: 'new',
            underlayIP: '198.18.6.1',
            podCIDRs: ['10.60.1.0/24'],
            cableNextHops: { new: '241.0.0.6' },
          },
        ],
      }),
    ).toBe('INVALID_ARGUMENT');
    expect(JSON.stringify(state.snapshot())).toBe(snap);
    expect(plans()).toBe(before);
    // A joining cluster's gateway may name the clusters already there.
    const joined = updateTopology(state, {
      kind: 'cluster-join',
      cluster: { name: 'new', mode: 'gateway', podCIDRs: ['10.60.0.0/16'] },
      nodes: [
        {
          name: 'new-gw',
          cluster: 'new',
          underlayIP: '198.18.6.1',
          podCIDRs: ['10.60.1.0/24'],
          gateway: true,
          cableNextHops: { home: '241.0.0.1' },
        },
      ],
    });
    expect(routesOf(joined.state, 'new-gw')).toContainEqual(via('242.0.0.0/16', '241.0.0.1', 'submariner'));
  });
});
