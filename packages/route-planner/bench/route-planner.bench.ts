// pnpm bench route-planner: P2P mesh planning, node joins and diffs, each next to a baseline from the same run.
import { fmtBytes, printTable, type Row, timeMs, usedBytes } from '../../ipam/bench/harness';
import {
  canonicalPlan,
  createTopologyState,
  diffPlan,
  type NodeSpec,
  type Plan,
  planNodeRoutes,
  type Route,
  type Topology,
  type TopologyState,
  updateTopology,
} from '../src/index';

const quick = process.env.BENCH_QUICK === '1';
const CLUSTERS = 20;
const NODES = quick ? 1_000 : 10_000;
const PER = NODES / CLUSTERS;

function nodeSpec(c: number, i: number): NodeSpec {
  return {
    name: `c${c}-node-${i}`,
    cluster: `c${c}`,
    underlayIP: `198.${18 + (c >> 4)}.${((c & 15) << 4) | (i >> 8)}.${i & 255}`,
    podCIDRs: [`10.${c * 8 + (i >> 8)}.${i & 255}.0/24`],
  };
}

function mesh(): Topology {
  const clusters = Array.from({ length: CLUSTERS }, (_, c) => ({
    name: `c${c}`,
    mode: 'p2p' as const,
    podCIDRs: [`10.${c * 8}.0.0/13`],
    serviceCIDRs: [`172.${16 + (c >> 4)}.${(c & 15) << 4}.0/20`],
  }));
  const nodes: NodeSpec[] = [];
  for (let c = 0; c < CLUSTERS; c++) for (let i = 0; i < PER; i++) nodes.push(nodeSpec(c, i));
  return { clusters, nodes };
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(2)} ms`;
}

const rows: Row[] = [];
const topology = mesh();
const before = usedBytes();
let state!: TopologyState;
const buildMs = timeMs(() => {
  state = createTopologyState(topology);
});
const stateBytes = usedBytes() - before;
rows.push({
  case: `createTopologyState: ${NODES} nodes, ${CLUSTERS} clusters (VTEPs allocated)`,
  value: ms(buildMs),
});
rows.push({
  case: 'state memory (after GC)',
  value: fmtBytes(stateBytes),
  baseline: `${(stateBytes / NODES).toFixed(0)} B/node`,
});

// One node's full plan.
let plan!: Plan;
const names = state.nodeNames();
const oneRuns: number[] = [];
for (let i = 0; i < 5; i++) oneRuns.push(timeMs(() => (plan = planNodeRoutes(state, names[i * 7]!).plan)));
const oneMs = Math.min(...oneRuns);
const entries = plan.routes.length + plan.fdb.length + plan.neighbours.length;

// Baseline: every node's full plan, computed one at a time and discarded.
const budgetMs = quick ? 60_000 : 20_000;
let done = 0;
const t0 = performance.now();
while (done < names.length && performance.now() - t0 < budgetMs) {
  planNodeRoutes(state, names[done]!);
  done++;
}
const sampleMs = performance.now() - t0;
const allMs = (sampleMs / done) * names.length;
const allLabel =
  done === names.length ? ms(allMs) : `${ms(allMs)} (extrapolated from ${done} plans in ${ms(sampleMs)})`;
rows.push({
  case: `one node's full plan (${plan.routes.length} routes, ${entries} entries)`,
  value: ms(oneMs),
  baseline: `all ${NODES} plans: ${allLabel}`,
  ratio: `${(allMs / oneMs).toFixed(0)}x`,
});

// A node joining: the deltas for every node, next to recomputing every node's plan.
const joinRuns: number[] = [];
let deltas = 0;
let deltaEntries = 0;
let s = state;
for (let k = 0; k < 5; k++) {
  const node: NodeSpec = { ...nodeSpec(k % CLUSTERS, PER + k), name: `joiner-${k}` };
  let r!: ReturnType<typeof updateTopology>;
  joinRuns.push(timeMs(() => (r = updateTopology(s, { kind: 'node-join', node }))));
  s = r.state;
  deltas = r.deltas.length;
  deltaEntries = r.deltas.reduce(
    (n, d) => n + d.diff.add.routes.length + d.diff.add.fdb.length + d.diff.add.neighbours.length,
    0,
  );
}
const joinMs = Math.min(...joinRuns);
rows.push({
  case: `node join: deltas for ${deltas} nodes (${deltaEntries} entries)`,
  value: ms(joinMs),
  baseline: `recompute all ${NODES} plans: ${allLabel}`,
  ratio: `${(allMs / joinMs).toFixed(0)}x`,
});

// diffPlan on two 10,000-route plans: 1% nexthops changed, 1% removed, 1% added.
const N = 10_000;
const mk = (i: number, via: string): Route => ({
  family: 4,
  table: 150,
  dst: `10.${i >> 8}.${i & 255}.0/24`,
  via,
  dev: 'vx-bridge',
  onlink: true,
});
const current = canonicalPlan({
  routes: Array.from({ length: N }, (_, i) => mk(i, `240.0.${i >> 8}.${i & 255}`)),
});
const desired = canonicalPlan({
  routes: Array.from({ length: N }, (_, i) =>
    i % 100 === 0
      ? mk(i, '240.9.9.9')
      : i % 100 === 1
        ? mk(N + i, '240.8.8.8')
        : mk(i, `240.0.${i >> 8}.${i & 255}`),
  ),
});
let changes = 0;
const diffRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  diffRuns.push(
    timeMs(() => {
      const d = diffPlan(current, desired);
      changes = d.add.routes.length + d.delete.routes.length + d.replace.routes.length;
    }),
  );
}
// Baseline: the obvious diff, a linear search of the other list for every route.
const naiveMs = timeMs(() => {
  const same = (a: Route, b: Route) =>
    a.table === b.table && a.dst === b.dst && (a.metric ?? 0) === (b.metric ?? 0);
  let n = 0;
  for (const d of desired.routes) {
    const c = current.routes.find((x) => same(x, d));
    if (c === undefined || JSON.stringify(c) !== JSON.stringify(d)) n++;
  }
  for (const c of current.routes) if (!desired.routes.some((x) => same(x, c))) n++;
  if (n !== changes) throw new Error(`naive diff disagrees: ${n} vs ${changes}`);
});
const diffMs = Math.min(...diffRuns);
rows.push({
  case: `diffPlan: two ${N}-route plans (${changes} changes)`,
  value: ms(diffMs),
  baseline: `linear-search diff: ${ms(naiveMs)}`,
  ratio: `${(naiveMs / diffMs).toFixed(0)}x`,
});

printTable(`@isthmus/route-planner${quick ? ' (BENCH_QUICK)' : ''}`, rows);
