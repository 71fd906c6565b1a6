import { diffPlan, type PlanDiff } from './diff';
import { RoutePlannerError, show } from './errors';
import { type CableNextHops, cableNextHopsField, cableNextHopsOf, withoutCluster } from './next-hops';
import { addContribution, KeyedParts, localPart, p2pPart, planNode, type RouteConflict } from './node-plan';
import { emptyPlan, KEY_OF, type Plan, type PlanSection, SECTIONS } from './plan';
import {
  allHazards,
  allocateVteps,
  type ClusterRec,
  type ClusterSpec,
  checkClusterNodes,
  checkNodeSpec,
  clusterRec,
  type Hazard,
  type NodeRec,
  type NodeSpec,
  nodeRec,
  TopologyState,
  throwOnHazards,
} from './topology';

/** A change to the topology. */
export type TopologyChange =
  | { readonly kind: 'node-join'; readonly node: NodeSpec }
  | { readonly kind: 'node-leave'; readonly name: string }
  | { readonly kind: 'cluster-join'; readonly cluster: ClusterSpec; readonly nodes?: readonly NodeSpec[] }
  | { readonly kind: 'cluster-leave'; readonly name: string }
  /**
   * Make `node` the cluster's active gateway, or leave the cluster without one (`null`); `cableNextHops`, when
   * given, replaces the new gateway's (see NodeSpec.cableNextHops).
   */
  | {
      readonly kind: 'gateway-change';
      readonly cluster: string;
      readonly node: string | null;
      readonly cableNextHops?: Readonly<Record<string, string>>;
    }
  /** Replace a node's cable next hops (say, a remote cluster's gateway moved to a node with another VTEP). */
  | {
      readonly kind: 'cable-next-hops';
      readonly node: string;
      readonly cableNextHops: Readonly<Record<string, string>>;
    };

/** The changes one node's plan needs. */
export interface NodeDelta {
  readonly node: string;
  readonly diff: PlanDiff;
}

export interface TopologyUpdate {
  /** The new state; the state passed in stays valid and unchanged. */
  readonly state: TopologyState;
  /** Every node whose plan changes (joined nodes: everything added; leaving nodes: everything deleted), by name. */
  readonly deltas: readonly NodeDelta[];
  /** Conflicts met while planning the changed entries. */
  readonly conflicts: readonly RouteConflict[];
}

const EMPTY = emptyPlan();

function sortKeyed<T>(a: Array<[string, T]>): T[] {
  if (a.length > 1) a.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return a.map((x) => x[1]);
}

/** Concatenate diffs of disjoint parts of one plan. */
function mergeDiffs(diffs: readonly PlanDiff[]): PlanDiff {
  if (diffs.length === 1) return diffs[0]!;
  const merge = (pick: (d: PlanDiff) => Plan): Plan => {
    const out: Record<string, unknown[]> = {};
    for (const s of SECTIONS) {
      const key = KEY_OF[s] as (x: unknown) => string;
      const items = diffs.flatMap((d) => pick(d)[s] as readonly unknown[]);
      out[s] =
        items.length === 0
          ? (EMPTY[s] as unknown[])
          : sortKeyed(items.map((i) => [key(i), i] as [string, unknown]));
    }
    return out as unknown as Plan;
  };
  return { delete: merge((d) => d.delete), replace: merge((d) => d.replace), add: merge((d) => d.add) };
}

function isEmpty(d: PlanDiff): boolean {
  for (const s of SECTIONS as readonly PlanSection[]) {
    if (d.delete[s].length > 0 || d.replace[s].length > 0 || d.add[s].length > 0) return false;
  }
  return true;
}

interface Parts {
  routes: Array<[string, import('./plan').Route]>;
  fdb: Array<[string, import('./plan').FdbEntry]>;
  neighbours: Array<[string, import('./plan').Neighbour]>;
}

function partsPlan(p: Parts): Plan {
  return {
    ...EMPTY,
    routes: sortKeyed(p.routes),
    fdb: sortKeyed(p.fdb),
    neighbours: sortKeyed(p.neighbours),
  };
}

function hazardSig(h: readonly Hazard[] | undefined): string {
  return h === undefined ? '' : h.map((x) => `${x.cluster}:${x.prefix}`).join(',');
}

interface Applied {
  readonly next: TopologyState;
  readonly joined: readonly NodeRec[];
  readonly left: readonly NodeRec[];
  /** Clusters whose local (gateway) parts may change. */
  readonly localChanged: ReadonlySet<string>;
  /** Single nodes whose local part may change (outside localChanged). */
  readonly localNodes?: ReadonlySet<string>;
  readonly clustersChanged: boolean;
}

function insertSorted(list: readonly string[], name: string): string[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return [...list.slice(0, lo), name, ...list.slice(lo)];
}

/** Validate new nodes of one cluster against the state; returns their checked specs. */
function checkJoining(
  state: TopologyState,
  cluster: ClusterRec,
  clusters: ReadonlyMap<string, ClusterRec>,
  specs: readonly NodeSpec[],
) {
  const isCluster = (name: string) => clusters.has(name);
  const checked = specs.map((spec) => ({ spec, c: checkNodeSpec(spec, cluster, state.opts, isCluster) }));
  const seen = new Map<string, string>();
  for (const { spec, c } of checked) {
    if (state.nodes.has(spec.name) || seen.has(spec.name)) {
      throw new RoutePlannerError('DUPLICATE_NAME', `node ${show(spec.name)} is already in the topology`, {
        node: spec.name,
      });
    }
    const other = state.underlays.get(c.underlay) ?? [...seen].find(([, u]) => u === c.underlay)?.[0];
    if (other !== undefined) {
      throw new RoutePlannerError(
        'DUPLICATE_NAME',
        `node ${show(spec.name)} would share underlay IP ${c.underlay} with ${show(other)}`,
        {
          nodes: [other, spec.name],
          underlayIP: c.underlay,
        },
      );
    }
    seen.set(spec.name, c.underlay);
  }
  const existing = cluster.nodes.map((n) => state.nodes.get(n)!);
  checkClusterNodes(cluster, [
    ...existing,
    ...checked.map(({ spec, c }) => ({ name: spec.name, pod: c.pod, gateway: c.gateway })),
  ]);
  return checked;
}

function apply(state: TopologyState, change: TopologyChange): Applied {
  const opts = state.opts;
  const kind = (change as { kind?: unknown })?.kind;
  if (kind === 'node-join' || kind === 'cluster-join') {
    const isCluster = kind === 'cluster-join';
    const ch = change as Extract<TopologyChange, { kind: 'node-join' | 'cluster-join' }>;
    let cluster: ClusterRec;
    let clusters: Map<string, ClusterRec>;
    let hazards = state.hazards;
    if (isCluster) {
      const cc = ch as Extract<TopologyChange, { kind: 'cluster-join' }>;
      cluster = clusterRec(cc.cluster, opts);
      if (state.clusters.has(cluster.name)) {
        throw new RoutePlannerError(
          'DUPLICATE_NAME',
          `cluster ${show(cluster.name)} is already in the topology`,
          { cluster: cluster.name },
        );
      }
      for (const n of cc.nodes ?? []) {
        if (n?.cluster !== cluster.name) {
          throw new RoutePlannerError(
            'INVALID_ARGUMENT',
            `node ${show(n?.name)} joins with cluster ${show(cluster.name)} but names ${show(n?.cluster)}`,
            {
              node: n?.name,
            },
          );
        }
      }
      clusters = new Map(state.clusters);
      clusters.set(cluster.name, cluster);
      hazards = allHazards(clusters);
      throwOnHazards(hazards, opts);
    } else {
      const spec = (ch as Extract<TopologyChange, { kind: 'node-join' }>).node;
      const c = state.clusters.get(spec?.cluster);
      if (c === undefined) checkNodeSpec(spec, undefined, opts, () => false);
      cluster = c!;
      if (spec.gateway === true && cluster.gateway !== undefined) {
        throw new RoutePlannerError(
          'INVALID_TOPOLOGY',
          `node ${show(spec.name)} joins as gateway but cluster ${show(cluster.name)} has active gateway ${show(cluster.gateway)}; use gateway-change`,
          { node: spec.name, cluster: cluster.name, gateway: cluster.gateway },
        );
      }
      clusters = new Map(state.clusters);
    }
    const specs = isCluster
      ? [...((ch as { nodes?: readonly NodeSpec[] }).nodes ?? [])]
      : [(ch as { node: NodeSpec }).node];
    const checked = checkJoining(state, cluster, clusters, specs).sort((a, b) =>
      a.spec.name < b.spec.name ? -1 : 1,
    );
    const pool = state.ownPool();
    const vteps = allocateVteps(
      pool,
      checked.map((x) => x.spec.name),
    );
    const joined = checked.map((x, i) => nodeRec(x.spec, x.c, vteps[i]!, opts));
    const nodes = new Map(state.nodes);
    const underlays = new Map(state.underlays);
    let names = cluster.nodes;
    for (const r of joined) {
      nodes.set(r.name, r);
      underlays.set(r.underlay, r.name);
      names = insertSorted(names, r.name);
    }
    const gateway = cluster.gateway ?? joined.find((r) => r.gateway)?.name;
    clusters.set(cluster.name, { ...cluster, nodes: names, gateway });
    const next = new TopologyState(opts, clusters, nodes, hazards, underlays, state.core);
    return { next, joined, left: [], localChanged: new Set([cluster.name]), clustersChanged: isCluster };
  }
  if (kind === 'node-leave' || kind === 'cluster-leave') {
    const isCluster = kind === 'cluster-leave';
    const name = (change as { name: string }).name;
    let leaving: NodeRec[];
    let clusterName: string;
    if (isCluster) {
      const c = state.clusters.get(name);
      if (c === undefined)
        throw new RoutePlannerError('UNKNOWN_CLUSTER', `cluster ${show(name)} is not in the topology`, {
          cluster: name,
        });
      clusterName = name;
      leaving = c.nodes.map((n) => state.nodes.get(n)!);
    } else {
      const n = state.nodes.get(name);
      if (n === undefined)
        throw new RoutePlannerError('UNKNOWN_NODE', `node ${show(name)} is not in the topology`, {
          node: name,
        });
      clusterName = n.cluster;
      leaving = [n];
    }
    const pool = state.ownPool();
    for (const n of leaving) pool.release(n.name);
    const nodes = new Map(state.nodes);
    const underlays = new Map(state.underlays);
    for (const n of leaving) {
      nodes.delete(n.name);
      underlays.delete(n.underlay);
    }
    const clusters = new Map(state.clusters);
    let hazards = state.hazards;
    if (isCluster) {
      clusters.delete(clusterName);
      hazards = allHazards(clusters);
      // Next hops toward the leaving cluster go with it: the state must stay one createTopologyState accepts.
      for (const n of nodes.values()) {
        const hops = withoutCluster(n.nextHops, clusterName);
        if (hops !== n.nextHops) nodes.set(n.name, withHops(n, hops));
      }
    } else {
      const c = state.clusters.get(clusterName)!;
      clusters.set(clusterName, {
        ...c,
        nodes: c.nodes.filter((n) => n !== name),
        gateway: c.gateway === name ? undefined : c.gateway,
      });
    }
    const next = new TopologyState(opts, clusters, nodes, hazards, underlays, state.core);
    return {
      next,
      joined: [],
      left: leaving,
      localChanged: new Set([clusterName]),
      clustersChanged: isCluster,
    };
  }
  if (kind === 'gateway-change') {
    const ch = change as Extract<TopologyChange, { kind: 'gateway-change' }>;
    const c = state.clusters.get(ch.cluster);
    if (c === undefined)
      throw new RoutePlannerError('UNKNOWN_CLUSTER', `cluster ${show(ch.cluster)} is not in the topology`, {
        cluster: ch.cluster,
      });
    if (ch.node !== null && state.nodes.get(ch.node)?.cluster !== ch.cluster) {
      throw new RoutePlannerError(
        'UNKNOWN_NODE',
        `node ${show(ch.node)} is not a node of cluster ${show(ch.cluster)}`,
        {
          node: ch.node,
          cluster: ch.cluster,
        },
      );
    }
    if (ch.cableNextHops !== undefined && ch.node === null) {
      throw new RoutePlannerError(
        'INVALID_ARGUMENT',
        `gateway-change of cluster ${show(ch.cluster)}: cableNextHops needs a node to become the gateway`,
        { cluster: ch.cluster },
      );
    }
    const hops =
      ch.cableNextHops === undefined || ch.node === null
        ? undefined
        : checkedHops(state, ch.node, ch.cableNextHops, 'gateway-change');
    const nodes = new Map(state.nodes);
    const flip = (name: string | undefined, gateway: boolean) => {
      const n = name === undefined ? undefined : nodes.get(name);
      if (n) nodes.set(n.name, Object.freeze({ ...n, gateway, spec: { ...n.spec, gateway } }));
    };
    flip(c.gateway, false);
    flip(ch.node ?? undefined, true);
    if (hops !== undefined) nodes.set(ch.node!, withHops(nodes.get(ch.node!)!, hops));
    const clusters = new Map(state.clusters);
    clusters.set(c.name, { ...c, gateway: ch.node ?? undefined });
    const next = new TopologyState(opts, clusters, nodes, state.hazards, state.underlays, state.core);
    return { next, joined: [], left: [], localChanged: new Set([c.name]), clustersChanged: false };
  }
  if (kind === 'cable-next-hops') {
    const ch = change as Extract<TopologyChange, { kind: 'cable-next-hops' }>;
    const rec = withHops(
      state.nodes.get(ch.node)!,
      checkedHops(state, ch.node, ch.cableNextHops, 'cable-next-hops'),
    );
    const nodes = new Map(state.nodes);
    nodes.set(rec.name, rec);
    const next = new TopologyState(opts, state.clusters, nodes, state.hazards, state.underlays, state.core);
    // Only the node's own gateway routes name its next hops.
    return {
      next,
      joined: [],
      left: [],
      localChanged: new Set(),
      localNodes: new Set([rec.name]),
      clustersChanged: false,
    };
  }
  throw new RoutePlannerError(
    'INVALID_ARGUMENT',
    `change kind ${show(kind)} is not node-join, node-leave, cluster-join, cluster-leave, gateway-change or cable-next-hops`,
    { value: kind },
  );
}

/** `value` checked as the cable next hops of node `name` in the state. */
function checkedHops(state: TopologyState, name: string, value: unknown, what: string): CableNextHops {
  const n = state.nodes.get(name);
  if (n === undefined) {
    throw new RoutePlannerError('UNKNOWN_NODE', `${what}: node ${show(name)} is not in the topology`, {
      node: name,
    });
  }
  if (value === undefined) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `${what}: cableNextHops of node ${show(name)} is missing`,
      {
        node: name,
      },
    );
  }
  return cableNextHopsOf(
    value,
    `${what}: node ${show(name)}.cableNextHops`,
    name,
    n.cluster,
    (c) => state.clusters.has(c),
    state.opts.vtepFamily,
  );
}

/** A node record with new cable next hops, in its spec too (so the state's specs rebuild it). */
function withHops(n: NodeRec, hops: CableNextHops): NodeRec {
  const { cableNextHops: _, ...spec } = n.spec;
  return Object.freeze({ ...n, nextHops: hops, spec: { ...spec, ...cableNextHopsField(hops) } });
}

/**
 * Apply a change to a topology state and return the new state with the plan deltas of every node whose plan
 * changes. A node joining a P2P mesh of N nodes costs O(N): each peer's delta is the new node's route, FDB
 * and neighbour entries, built once; only the new node's own plan is computed in full. A change that throws
 * leaves `state` as it was, and `state` stays usable after a successful change too.
 */
export function updateTopology(state: TopologyState, change: TopologyChange): TopologyUpdate {
  if (!(state instanceof TopologyState)) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      'state must come from createTopologyState or updateTopology',
      {},
    );
  }
  const { next, joined, left, localChanged, localNodes, clustersChanged } = apply(state, change);
  const conflicts: RouteConflict[] = [];
  const deltas: NodeDelta[] = [];
  const p2pFull = new Set<string>();
  if (clustersChanged) {
    for (const l of next.clusters.keys()) {
      if (!state.clusters.has(l)) continue;
      for (const r of next.clusters.keys()) {
        if (r === l || !state.clusters.has(r)) continue;
        const k = `${l}\u0000${r}`;
        if (hazardSig(state.hazards.get(k)) !== hazardSig(next.hazards.get(k))) p2pFull.add(l);
      }
    }
  }
  const joinedP2P = joined.filter((y) => next.clusters.get(y.cluster)!.mode === 'p2p');
  const leftP2P = left.filter((y) => state.clusters.get(y.cluster)!.mode === 'p2p');
  const joinedNames = new Set(joined.map((j) => j.name));
  for (const x of next.nodes.values()) {
    if (joinedNames.has(x.name)) continue;
    const old = state.nodes.get(x.name)!;
    const cluster = next.clusters.get(x.cluster)!;
    const parts: PlanDiff[] = [];
    if (clustersChanged || localChanged.has(x.cluster) || localNodes?.has(x.name)) {
      const a = new KeyedParts();
      const b = new KeyedParts();
      localPart(state, old, a, []);
      localPart(next, x, b, conflicts);
      const d = diffPlan(a.build(), b.build());
      if (!isEmpty(d)) parts.push(d);
    }
    if (cluster.mode === 'p2p') {
      if (p2pFull.has(x.cluster)) {
        const a = new KeyedParts();
        const b = new KeyedParts();
        p2pPart(state, old, a, []);
        p2pPart(next, x, b, conflicts);
        const d = diffPlan(a.build(), b.build());
        if (!isEmpty(d)) parts.push(d);
      } else if (joinedP2P.length > 0 || leftP2P.length > 0) {
        const add: Parts = { routes: [], fdb: [], neighbours: [] };
        const del: Parts = { routes: [], fdb: [], neighbours: [] };
        for (const y of joinedP2P)
          if (y.cluster !== x.cluster) addContribution(next, x.cluster, x.name, y, add, conflicts);
        for (const y of leftP2P)
          if (y.cluster !== x.cluster) addContribution(state, x.cluster, x.name, y, del, []);
        const d: PlanDiff = { delete: partsPlan(del), replace: EMPTY, add: partsPlan(add) };
        if (!isEmpty(d)) parts.push(d);
      }
    }
    if (parts.length > 0) deltas.push({ node: x.name, diff: mergeDiffs(parts) });
  }
  for (const y of joined) {
    const r = planNode(next, y.name);
    conflicts.push(...r.conflicts);
    deltas.push({ node: y.name, diff: { delete: EMPTY, replace: EMPTY, add: r.plan } });
  }
  for (const y of left) {
    deltas.push({ node: y.name, diff: { delete: planNode(state, y.name).plan, replace: EMPTY, add: EMPTY } });
  }
  deltas.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { state: next, deltas, conflicts };
}
