import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDiff, diffPlan, isEmptyDiff } from './diff';
import { planNodeHost } from './node-host';
import { scopeToPlan } from './parse';
import { emptyPlan, type Plan, ruleKey } from './plan';
import { planPodRoutes } from './pod';
import { thrown } from './test-support';

/** The host side of pod i on one node: underlay eth0, IPv4 or dual stack. */
function podHost(i: number, dual = false, hostRuleTable?: number): Plan {
  return planPodRoutes({
    nics: [
      {
        name: 'eth0',
        addresses: [`192.0.2.${10 + i}/24`, ...(dual ? [`2001:db8:1::${(10 + i).toString(16)}/64`] : [])],
        routes: [{ dst: 'default', via: '192.0.2.1' }],
      },
    ],
    nodeIPs: ['198.18.0.1', '2001:db8:ff::1'],
    podKey: `pod-${i}`,
    ...(hostRuleTable !== undefined && { hostRuleTable }),
  }).host;
}

describe('planNodeHost: the node side of all pods on a node', () => {
  it("keeps every pod's /32 route, veth and neighbour, and the shared rule once", () => {
    const a = podHost(1);
    const b = podHost(2);
    const node = planNodeHost([a, b]);
    expect(node.rules).toEqual([{ family: 4, priority: 1000, table: 500 }]);
    expect(node.routes.map((r) => `${r.table} ${r.dst} dev ${r.dev}`)).toEqual([
      `500 192.0.2.11/32 dev ${a.devices[0]!.name}`,
      `500 192.0.2.12/32 dev ${b.devices[0]!.name}`,
    ]);
    expect(node.devices.map((d) => d.name).sort()).toEqual([a.devices[0]!.name, b.devices[0]!.name].sort());
    expect(node.neighbours).toHaveLength(2);
    expect(planNodeHost([b, a])).toEqual(node);
    expect(planNodeHost([])).toEqual(emptyPlan());
  });

  it('removing a pod from the merged set deletes only its veth, /32 route and neighbour, never the shared rule', () => {
    const a = podHost(1);
    const b = podHost(2);
    const d = diffPlan(planNodeHost([a, b]), planNodeHost([a]));
    expect(d.delete).toEqual({ ...b, rules: [] });
    expect(isEmptyDiff({ ...d, delete: emptyPlan() })).toBe(true);
    // The last pod leaving takes the rule with it.
    expect(diffPlan(planNodeHost([a]), planNodeHost([])).delete.rules).toEqual(a.rules);
  });

  it("the wrong ways: one pod's host plan as the desired state deletes the other pods' routes, or the rule", () => {
    const a = podHost(1);
    const b = podHost(2);
    const kernel = planNodeHost([a, b]); // what the node has with both pods running
    const onlyA = diffPlan(scopeToPlan(kernel, a), a);
    expect(onlyA.delete.routes).toEqual(b.routes);
    expect(diffPlan(b, emptyPlan()).delete.rules).toEqual(b.rules);
    // Against the union the node is already right.
    expect(isEmptyDiff(diffPlan(scopeToPlan(kernel, planNodeHost([a, b])), planNodeHost([a, b])))).toBe(true);
  });

  it('two pods claiming one pod IP, or different host tables, are DUPLICATE_ENTRY', () => {
    const a = podHost(1);
    const again = planPodRoutes({
      nics: [{ name: 'eth0', addresses: ['192.0.2.11/24'] }],
      nodeIPs: ['198.18.0.1'],
      podKey: 'another-pod',
    }).host;
    expect(thrown(() => planNodeHost([a, again])).code).toBe('DUPLICATE_ENTRY');
    expect(thrown(() => planNodeHost([a, podHost(2, false, 600)])).code).toBe('DUPLICATE_ENTRY');
    expect(thrown(() => planNodeHost(a as never)).code).toBe('INVALID_ARGUMENT');
  });

  it('property: dropping any subset of pods deletes exactly their entries, and a rule only when no pod still claims it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dual: fc.boolean(), keep: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        (pods) => {
          const hosts = pods.map((p, i) => podHost(i, p.dual));
          const kept = hosts.filter((_, i) => pods[i]!.keep);
          const removed = hosts.filter((_, i) => !pods[i]!.keep);
          const before = planNodeHost(hosts);
          const after = planNodeHost(kept);
          const d = diffPlan(before, after);
          expect(applyDiff(before, d)).toEqual(after);
          expect(isEmptyDiff({ ...d, delete: emptyPlan() })).toBe(true);
          const stillClaimed = new Set(after.rules.map(ruleKey));
          const gone = planNodeHost(removed);
          expect(d.delete).toEqual({
            ...gone,
            rules: gone.rules.filter((r) => !stillClaimed.has(ruleKey(r))),
          });
          for (const r of after.rules) expect(d.delete.rules).not.toContainEqual(r);
        },
      ),
    );
  });
});
