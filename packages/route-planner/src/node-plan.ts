import type { Prefix } from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';
import { familyOfText } from './ip';
import {
  type AddressEntry,
  addressKey,
  type Device,
  type FdbEntry,
  fdbKey,
  type Neighbour,
  neighbourKey,
  type Plan,
  type Route,
  type Rule,
  routeKey,
  ruleKey,
} from './plan';
import {
  createTopologyState,
  type Hazard,
  type NodeRec,
  type Topology,
  TopologyState,
  vxlanOverheadOver,
} from './topology';

const ZERO_MAC = '00:00:00:00:00:00';

/** A remote CIDR left out of a node's plan, or a node that cannot reach other clusters. */
export type RouteConflict =
  | {
      readonly kind: 'overlap';
      /** The node whose plan leaves the route out. */
      readonly node: string;
      readonly remoteCluster: string;
      /** For P2P routes: the remote node. */
      readonly remoteNode?: string;
      readonly cidr: string;
      /** The CIDR it overlaps and the cluster that routes it. */
      readonly overlaps: { readonly cluster: string; readonly cidr: string };
    }
  | {
      readonly kind: 'no-gateway';
      readonly node: string;
      readonly cluster: string;
    };

export interface NodePlanResult {
  readonly node: string;
  readonly plan: Plan;
  readonly conflicts: readonly RouteConflict[];
}

/** Collects keyed entries of a plan, sorted once at the end. @internal */
export class KeyedParts {
  devices: Array<[string, Device]> = [];
  addresses: Array<[string, AddressEntry]> = [];
  routes: Array<[string, Route]> = [];
  rules: Array<[string, Rule]> = [];
  neighbours: Array<[string, Neighbour]> = [];
  fdb: Array<[string, FdbEntry]> = [];
  route(r: Route): void {
    this.routes.push([routeKey(r), r]);
  }
  fdbEntry(f: FdbEntry): void {
    this.fdb.push([fdbKey(f), f]);
  }
  neighbour(n: Neighbour): void {
    this.neighbours.push([neighbourKey(n), n]);
  }
  build(): Plan {
    const s = <T>(a: Array<[string, T]>): T[] => {
      a.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      return a.map((x) => x[1]);
    };
    return {
      devices: s(this.devices),
      addresses: s(this.addresses),
      routes: s(this.routes),
      rules: s(this.rules),
      neighbours: s(this.neighbours),
      fdb: s(this.fdb),
      mangle: [],
    };
  }
}

/** Clusters the node's cluster reaches through its gateway (any pair with a gateway-mode cluster). @internal */
export function gatewayPeers(state: TopologyState, cluster: string): string[] {
  const local = state.clusters.get(cluster)!;
  return [...state.clusters.values()]
    .filter((r) => r.name !== cluster && (local.mode === 'gateway' || r.mode === 'gateway'))
    .map((r) => r.name);
}

/** Clusters whose nodes the node's cluster reaches directly. @internal */
export function p2pPeers(state: TopologyState, cluster: string): string[] {
  const local = state.clusters.get(cluster)!;
  if (local.mode !== 'p2p') return [];
  return [...state.clusters.values()]
    .filter((r) => r.name !== cluster && r.mode === 'p2p')
    .map((r) => r.name);
}

function hazardHit(state: TopologyState, local: string, remote: string, cidr: Prefix): Hazard | undefined {
  const hz = state.hazards.get(`${local}\u0000${remote}`);
  if (hz === undefined) return undefined;
  return hz.find((h) => cidr.overlaps(h.prefix));
}

/**
 * The local part of a node's plan: its VXLAN devices, VTEP addresses, the rule to its table, and everything
 * of gateway mode (FDB/neighbours toward the gateway or, on the gateway, toward every node of the cluster,
 * and the routes of remote clusters). @internal
 */
export function localPart(
  state: TopologyState,
  x: NodeRec,
  out: KeyedParts,
  conflicts: RouteConflict[],
): void {
  const o = state.opts;
  const cluster = state.clusters.get(x.cluster)!;
  const gwPeers = gatewayPeers(state, x.cluster);
  const bits = o.vtepFamily === 4 ? 32 : 128;
  const mtu = x.mtu - vxlanOverheadOver(familyOfText(x.underlay), o);
  const dev = x.spec.underlayDevice;
  const vx = (v: typeof o.p2pVxlan): Device => ({
    kind: 'vxlan',
    name: v.name,
    vni: v.vni,
    port: v.port,
    local: x.underlay,
    ...(dev !== undefined && { dev }),
    learning: false,
    mtu,
    mac: x.mac,
  });
  const withGateway = cluster.mode === 'gateway' || gwPeers.length > 0;
  const devs: string[] = [];
  if (withGateway) devs.push(o.gatewayVxlan.name);
  if (cluster.mode === 'p2p') devs.push(o.p2pVxlan.name);
  for (const name of devs) {
    const d = vx(name === o.gatewayVxlan.name ? o.gatewayVxlan : o.p2pVxlan);
    out.devices.push([name, d]);
    const a: AddressEntry = { dev: name, address: `${x.vtep}/${bits}`, family: o.vtepFamily };
    out.addresses.push([addressKey(a), a]);
  }
  const rule: Rule = { family: o.vtepFamily, priority: o.rulePriority, table: o.table };
  out.rules.push([ruleKey(rule), rule]);
  if (!withGateway) return;
  const gwDev = o.gatewayVxlan.name;
  const gw = cluster.gateway === undefined ? undefined : state.nodes.get(cluster.gateway);
  if (gw === undefined) {
    if (gwPeers.length > 0) conflicts.push({ kind: 'no-gateway', node: x.name, cluster: x.cluster });
    return;
  }
  const tunnel = (n: NodeRec) => {
    out.fdbEntry({ dev: gwDev, lladdr: ZERO_MAC, dst: n.underlay });
    out.fdbEntry({ dev: gwDev, lladdr: n.mac, dst: n.underlay });
    out.neighbour({ dev: gwDev, dst: n.vtep, lladdr: n.mac, permanent: true });
  };
  if (gw.name === x.name) for (const n of cluster.nodes) if (n !== x.name) tunnel(state.nodes.get(n)!);
  if (gw.name !== x.name) tunnel(gw);
  for (const r of gwPeers) {
    for (const c of state.clusters.get(r)!.exposed) {
      const hit = hazardHit(state, x.cluster, r, c);
      if (hit) {
        conflicts.push({
          kind: 'overlap',
          node: x.name,
          remoteCluster: r,
          cidr: c.toString(),
          overlaps: { cluster: hit.cluster, cidr: hit.prefix.toString() },
        });
        continue;
      }
      const dst = c.toString();
      // On the gateway: an L3 cable takes the CIDR as a link route; an L2 cable (VXLAN) needs the remote VTEP.
      const hop = gw.name === x.name ? x.nextHops.get(r) : gw.vtep;
      out.route(
        hop === undefined
          ? { family: o.vtepFamily, table: o.table, dst, dev: x.cable, scope: 'link' }
          : {
              family: o.vtepFamily,
              table: o.table,
              dst,
              via: hop,
              dev: gw.name === x.name ? x.cable : gwDev,
              onlink: true,
            },
      );
    }
  }
}

/** Add one remote node's P2P contribution, unless an overlap keeps its route out. @internal */
export function addContribution(
  state: TopologyState,
  localCluster: string,
  x: string,
  y: NodeRec,
  out: {
    routes: Array<[string, Route]>;
    fdb: Array<[string, FdbEntry]>;
    neighbours: Array<[string, Neighbour]>;
  },
  conflicts: RouteConflict[],
): void {
  const c = y.p2p;
  for (let i = 0; i < c.routes.length; i++) {
    const hit = state.hazards.size === 0 ? undefined : hazardHit(state, localCluster, y.cluster, y.pod[i]!);
    if (hit) {
      conflicts.push({
        kind: 'overlap',
        node: x,
        remoteCluster: y.cluster,
        remoteNode: y.name,
        cidr: y.pod[i]!.toString(),
        overlaps: { cluster: hit.cluster, cidr: hit.prefix.toString() },
      });
      continue;
    }
    out.routes.push([c.routeKeys[i]!, c.routes[i]!]);
  }
  out.fdb.push([c.fdbKeys[0]!, c.fdb[0]!], [c.fdbKeys[1]!, c.fdb[1]!]);
  out.neighbours.push([c.neighbourKey, c.neighbour]);
}

/** The P2P part: every node of every other P2P cluster. @internal */
export function p2pPart(state: TopologyState, x: NodeRec, out: KeyedParts, conflicts: RouteConflict[]): void {
  for (const r of p2pPeers(state, x.cluster)) {
    for (const name of state.clusters.get(r)!.nodes)
      addContribution(state, x.cluster, x.name, state.nodes.get(name)!, out, conflicts);
  }
}

/** A node's full plan from a state. @internal */
export function planNode(state: TopologyState, name: string): NodePlanResult {
  const x = state.nodes.get(name);
  if (x === undefined) {
    throw new RoutePlannerError('UNKNOWN_NODE', `node ${show(name)} is not in the topology`, { node: name });
  }
  const out = new KeyedParts();
  const conflicts: RouteConflict[] = [];
  localPart(state, x, out, conflicts);
  p2pPart(state, x, out, conflicts);
  return { node: name, plan: out.build(), conflicts };
}

/**
 * The routes, rules, VXLAN devices, FDB and neighbour entries one node needs to reach the other clusters.
 * Takes a topology (VTEPs are allocated for all its nodes first) or a state from createTopologyState /
 * updateTopology (cheaper: O(size of the plan)).
 */
export function planNodeRoutes(topology: Topology | TopologyState, nodeName: string): NodePlanResult {
  const state = topology instanceof TopologyState ? topology : createTopologyState(topology);
  return planNode(state, nodeName);
}
