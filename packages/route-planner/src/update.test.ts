import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDiff } from './diff';
import { planNode } from './node-plan';
import { emptyPlan, type Plan } from './plan';
import { arbTopology, thrown } from './test-support';
import { createTopologyState, type TopologyState } from './topology';
import { type TopologyChange, updateTopology } from './update';

function plans(state: TopologyState): Map<string, Plan> {
  return new Map(state.nodeNames().map((n) => [n, planNode(state, n).plan]));
}

const w = (weight: number, arbitrary: fc.Arbitrary<TopologyChange>) => ({ weight, arbitrary });

/** A change drawn against the current state: joins, leaves, gateway changes, cluster joins and leaves. */
function arbChange(state: TopologyState, serial: number): fc.Arbitrary<TopologyChange> {
  const clusters = state.clusterNames();
  const nodes = state.nodeNames();
  const options: Array<{ arbitrary: fc.Arbitrary<TopologyChange>; weight: number }> = [];
  if (clusters.length > 0) {
    options.push(
      w(
        3,
        fc.constantFrom(...clusters).map((c): TopologyChange => {
          const net = state.clusters.get(c)!.spec.podCIDRs[0]!.split('.')[1];
          return {
            kind: 'node-join',
            node: {
              name: `${c}-j${serial}`,
              cluster: c,
              underlayIP: `198.19.${serial}.${clusters.indexOf(c) + 1}`,
              podCIDRs: [`10.${net}.${200 + serial}.0/24`],
            },
          };
        }),
      ),
    );
    options.push(
      w(
        1,
        fc.constantFrom(...clusters).chain((c) => {
          const members = nodes.filter((n) => state.node(n)!.cluster === c);
          return fc
            .record({
              node: fc.constantFrom<string | null>(null, ...members),
              hops: fc.option(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 })),
            })
            .map(({ node, hops }): TopologyChange => {
              const own = clusters.indexOf(c);
              const named = hops?.map((k) => clusters[k] ?? 'none').filter((k) => k !== c && k !== 'none');
              return {
                kind: 'gateway-change',
                cluster: c,
                node,
                ...(node !== null &&
                  named !== undefined && {
                    cableNextHops: Object.fromEntries(
                      named.map((k, i) => [k, `192.0.2.${own * 10 + i + 1}`]),
                    ),
                  }),
              };
            });
        }),
      ),
    );
    options.push(
      w(
        1,
        fc.constantFrom(...clusters).map((name): TopologyChange => ({ kind: 'cluster-leave', name })),
      ),
    );
  }
  if (nodes.length > 0) {
    options.push(
      w(
        3,
        fc.constantFrom(...nodes).map((name): TopologyChange => ({ kind: 'node-leave', name })),
      ),
    );
    options.push(
      w(
        2,
        fc
          .record({ node: fc.constantFrom(...nodes), to: fc.subarray(clusters), last: fc.nat(200) })
          .map(({ node, to, last }): TopologyChange => {
            const own = state.node(node)!.cluster;
            const named = to.filter((c) => c !== own);
            return {
              kind: 'cable-next-hops',
              node,
              cableNextHops: Object.fromEntries(
                named.map((c, i) => [c, `198.51.100.${((last + i) % 254) + 1}`]),
              ),
            };
          }),
      ),
    );
  }
  options.push(
    w(
      1,
      fc
        .record({
          mode: fc.constantFrom('p2p' as const, 'gateway' as const),
          n: fc.integer({ min: 0, max: 3 }),
          overlap: fc.boolean(),
        })
        .map(({ mode, n, overlap }): TopologyChange => {
          const net = overlap ? 0 : 60 + serial;
          const name = `k${serial}`;
          return {
            kind: 'cluster-join',
            cluster: {
              name,
              mode,
              podCIDRs: [`10.${net}.0.0/16`],
              serviceCIDRs: [`10.${160 + serial}.0.0/16`],
            },
            nodes: Array.from({ length: n }, (_, j) => ({
              name: `${name}-n${j}`,
              cluster: name,
              underlayIP: `198.19.${100 + serial}.${j + 1}`,
              podCIDRs: [`10.${net}.${100 + j}.0/24`],
              ...(j === 0 && mode === 'gateway' && { gateway: true }),
              // A joining gateway may already know its next hops toward the clusters in the topology.
              ...(j === 0 &&
                clusters.length > 0 && {
                  cableNextHops: { [clusters[0]!]: `203.0.113.${(serial % 250) + 1}` },
                }),
            })),
          };
        }),
    ),
  );
  return fc.oneof(...options);
}

describe('updateTopology (model-based)', () => {
  it('each delta turns the old plan into the new full plan; untouched nodes get none; old states stay valid', () => {
    fc.assert(
      fc.property(
        arbTopology,
        fc.array(fc.nat(), { minLength: 2, maxLength: 8 }),
        fc.integer(),
        (t, steps, seed) => {
          let state = createTopologyState(t);
          let serial = 0;
          for (const s of steps) {
            const change = fc.sample(arbChange(state, serial++), { numRuns: 1, seed: seed + s })[0]!;
            const before = plans(state);
            const { state: next, deltas } = updateTopology(state, change);
            const after = plans(next);
            const byNode = new Map(deltas.map((d) => [d.node, d.diff]));
            for (const name of new Set([...before.keys(), ...after.keys()])) {
              const old = before.get(name) ?? emptyPlan();
              const want = after.get(name) ?? emptyPlan();
              const d = byNode.get(name);
              const got = d === undefined ? old : applyDiff(old, d);
              expect(got, `${change.kind} -> ${name}`).toEqual(want);
            }
            // The old state still plans exactly what it did.
            const first = state.nodeNames()[0];
            if (first !== undefined) expect(planNode(state, first).plan).toEqual(before.get(first));
            // A state rebuilt from the specs and the snapshot plans the same.
            const rebuilt = createTopologyState({
              clusters: next.clusterNames().map((c) => next.clusters.get(c)!.spec),
              nodes: next.nodeNames().map((n) => next.nodes.get(n)!.spec),
              previous: next.snapshot(),
            });
            expect(plans(rebuilt)).toEqual(after);
            state = next;
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a node joining a P2P mesh gives every remote peer one route, two FDB entries and one neighbour', () => {
    const state = createTopologyState({
      clusters: [
        { name: 'a', mode: 'p2p', podCIDRs: ['10.1.0.0/16'] },
        { name: 'b', mode: 'p2p', podCIDRs: ['10.2.0.0/16'] },
      ],
      nodes: Array.from({ length: 6 }, (_, i) => ({
        name: `${i % 2 ? 'b' : 'a'}${i}`,
        cluster: i % 2 ? 'b' : 'a',
        underlayIP: `198.18.0.${i + 1}`,
        podCIDRs: [`10.${(i % 2) + 1}.${i}.0/24`],
      })),
    });
    const { deltas } = updateTopology(state, {
      kind: 'node-join',
      node: { name: 'b9', cluster: 'b', underlayIP: '198.18.0.99', podCIDRs: ['10.2.9.0/24'] },
    });
    expect(deltas.map((d) => d.node)).toEqual(['a0', 'a2', 'a4', 'b9']);
    for (const d of deltas.slice(0, 3)) {
      expect([d.diff.add.routes.length, d.diff.add.fdb.length, d.diff.add.neighbours.length]).toEqual([
        1, 2, 1,
      ]);
      expect(d.diff.add.routes[0]).toMatchObject({ dst: '10.2.9.0/24', via: '240.0.0.7', onlink: true });
    }
  });

  it('a failed change throws a typed error and leaves the state as it was', () => {
    const t = {
      clusters: [{ name: 'a', mode: 'p2p' as const, podCIDRs: ['10.1.0.0/16'] }],
      nodes: [{ name: 'a1', cluster: 'a', underlayIP: '198.18.0.1', podCIDRs: ['10.1.1.0/24'] }],
      options: { vtepCIDR: '240.0.0.0/30' },
    };
    const state = createTopologyState(t);
    const snap = JSON.stringify(state.snapshot());
    const join = (name: string, ip: string, cidr: string): TopologyChange => ({
      kind: 'node-join',
      node: { name, cluster: 'a', underlayIP: ip, podCIDRs: [cidr] },
    });
    expect(thrown(() => updateTopology(state, join('a1', '198.18.0.2', '10.1.2.0/24'))).code).toBe(
      'DUPLICATE_NAME',
    );
    expect(thrown(() => updateTopology(state, join('a2', '198.18.0.1', '10.1.2.0/24'))).code).toBe(
      'DUPLICATE_NAME',
    );
    expect(thrown(() => updateTopology(state, join('a2', '198.18.0.2', '10.1.1.128/25'))).code).toBe(
      'CIDR_OVERLAP',
    );
    expect(thrown(() => updateTopology(state, { kind: 'node-leave', name: 'zz' })).code).toBe('UNKNOWN_NODE');
    expect(
      thrown(() => updateTopology(state, { kind: 'gateway-change', cluster: 'a', node: 'zz' })).code,
    ).toBe('UNKNOWN_NODE');
    const ok = updateTopology(state, join('a2', '198.18.0.2', '10.1.2.0/24')).state;
    expect(thrown(() => updateTopology(ok, join('a3', '198.18.0.3', '10.1.3.0/24'))).code).toBe(
      'VTEP_POOL_EXHAUSTED',
    );
    expect(ok.nodeNames()).toEqual(['a1', 'a2']);
    expect(JSON.stringify(state.snapshot())).toBe(snap);
    // The old state can still take a different change without colliding with the new one's VTEPs.
    const other = updateTopology(state, join('a9', '198.18.0.9', '10.1.9.0/24')).state;
    expect(other.node('a9')!.vtep).toBe('240.0.0.2');
    expect(ok.node('a2')!.vtep).toBe('240.0.0.2');
  });
});
