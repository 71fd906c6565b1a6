import {
  createTopologyState,
  diffPlan,
  planNodeRoutes,
  RoutePlannerError,
  renderIpBatch,
  updateTopology,
} from '@isthmus/route-planner';

const state = createTopologyState({
  clusters: [
    { name: 'east', mode: 'p2p', podCIDRs: ['10.10.0.0/16'] },
    { name: 'west', mode: 'p2p', podCIDRs: ['10.20.0.0/16'] },
  ],
  nodes: [
    { name: 'east-1', cluster: 'east', underlayIP: '198.18.0.1', podCIDRs: ['10.10.1.0/24'] },
    { name: 'west-1', cluster: 'west', underlayIP: '198.18.0.2', podCIDRs: ['10.20.1.0/24'] },
  ],
});

const { plan } = planNodeRoutes(state, 'east-1');
for (const step of renderIpBatch(plan)) console.log(`${step.tool} ${step.args.join(' ')}\n${step.input}`);

// A node joins: east-1 gets one route, two FDB entries and one neighbour, not a new plan.
const next = updateTopology(state, {
  kind: 'node-join',
  node: { name: 'west-2', cluster: 'west', underlayIP: '198.18.0.3', podCIDRs: ['10.20.2.0/24'] },
});
const delta = next.deltas.find((d) => d.node === 'east-1')!.diff;
console.log(delta.add.routes, diffPlan(plan, planNodeRoutes(next.state, 'east-1').plan).add.fdb.length);

try {
  planNodeRoutes(state, 'nowhere-1');
} catch (e) {
  if (RoutePlannerError.isInstance(e)) console.log(e.code); // UNKNOWN_NODE
}
