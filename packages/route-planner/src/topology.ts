import {
  createPool,
  type Family,
  IpamError,
  type Pool,
  type PoolSnapshot,
  type Prefix,
  restorePool,
} from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';
import { addrOf, addrSortKey, prefixOf } from './ip';
import { macFromAddr, macPrefixOf } from './mac';
import { type CableNextHops, cableNextHopsOf } from './next-hops';
import { type FdbEntry, fdbKey, type Neighbour, neighbourKey, type Route, routeKey } from './plan';

export type ClusterMode = 'gateway' | 'p2p';

/** A cluster in the topology. */
export interface ClusterSpec {
  readonly name: string;
  /** `gateway`: nodes reach other clusters through the active gateway (Submariner); `p2p`: node to node (Kosmos). */
  readonly mode: ClusterMode;
  readonly podCIDRs: readonly string[];
  readonly serviceCIDRs?: readonly string[];
  /** Globalnet CIDRs: when set, other clusters route these instead of the pod and service CIDRs (gateway mode). */
  readonly globalCIDRs?: readonly string[];
}

/** A node in the topology. */
export interface NodeSpec {
  readonly name: string;
  readonly cluster: string;
  /** The address VXLAN packets are sent from and to. */
  readonly underlayIP: string;
  /** The underlay device, when the VXLAN device should be pinned to it. */
  readonly underlayDevice?: string;
  /** MTU of the underlay NIC; default 1500. */
  readonly mtu?: number;
  /** This node's pod CIDRs (inside its cluster's podCIDRs). */
  readonly podCIDRs: readonly string[];
  /** The cluster's active gateway (at most one per cluster). */
  readonly gateway?: boolean;
  /** The tunnel device toward other clusters (from @isthmus/cable) on a gateway; default options.cableDevice. */
  readonly cableDevice?: string;
  /**
   * Next hop on the cable by remote cluster name, for L2 cables (VXLAN: the remote gateway's VTEP): while this
   * node is the active gateway, that cluster's CIDRs go `via <hop> dev <cable> onlink` instead of `scope link`.
   */
  readonly cableNextHops?: Readonly<Record<string, string>>;
}

export interface VxlanOptions {
  readonly name: string;
  readonly vni: number;
  readonly port: number;
}

export interface NodeRouteOptions {
  /** Where VTEP addresses are allocated (an @isthmus/ipam pool keyed by node name); default 240.0.0.0/12. */
  readonly vtepCIDR?: string;
  /** Two bytes, unicast and locally administered; VTEP MAC = prefix + the VTEP address's last 4 bytes. Default 0e:fe. */
  readonly vtepMACPrefix?: string;
  /** Default vx-submariner, VNI 100, port 4800 (Submariner's). */
  readonly gatewayVxlan?: Partial<VxlanOptions>;
  /** Default vx-bridge, VNI 4097, port 4789 (our choice). */
  readonly p2pVxlan?: Partial<VxlanOptions>;
  /** Bytes of VXLAN overhead over an IPv4 underlay: device MTU = underlay MTU - this (- 20 more over IPv6). Default 50. */
  readonly vxlanOverhead?: number;
  /** The table node routes go in; default 150. */
  readonly table?: number;
  /** Priority of the rule `from all lookup <table>`; default 150. */
  readonly rulePriority?: number;
  /** Default cable device on gateways; default "submariner". */
  readonly cableDevice?: string;
  /** `report` (default): leave overlapping remote CIDRs out and list them as conflicts; `throw`: CIDR_OVERLAP. */
  readonly onOverlap?: 'report' | 'throw';
}

export interface ResolvedNodeOptions {
  readonly vtepCIDR: string;
  readonly vtepFamily: Family;
  readonly vtepMACPrefix: readonly [number, number];
  readonly gatewayVxlan: VxlanOptions;
  readonly p2pVxlan: VxlanOptions;
  readonly vxlanOverhead: number;
  readonly table: number;
  readonly rulePriority: number;
  readonly cableDevice: string;
  readonly onOverlap: 'report' | 'throw';
}

/** A VTEP snapshot to restore from, so nodes keep their VTEP addresses across restarts. */
export interface TopologySnapshot {
  readonly version: 1;
  readonly vteps: PoolSnapshot;
}

/** A topology: clusters, nodes, options, and optionally the previous state's VTEP snapshot. */
export interface Topology {
  readonly clusters: readonly ClusterSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly options?: NodeRouteOptions;
  readonly previous?: TopologySnapshot;
}

/** A cluster-level CIDR another route must not overlap. */
export interface Hazard {
  readonly prefix: Prefix;
  readonly cluster: string;
}

/** @internal */
export interface ClusterRec {
  readonly spec: ClusterSpec;
  readonly name: string;
  readonly mode: ClusterMode;
  readonly pod: readonly Prefix[];
  /** What other clusters route to reach this one: global CIDRs, or pod and service CIDRs. */
  readonly exposed: readonly Prefix[];
  /** Everything this cluster routes locally: pod, service and global CIDRs. */
  readonly footprint: readonly Prefix[];
  /** Node names, sorted. */
  readonly nodes: readonly string[];
  readonly gateway: string | undefined;
}

/** What a node contributes to each P2P peer's plan, built once when it joins. @internal */
export interface Contribution {
  readonly routes: readonly Route[];
  readonly routeKeys: readonly string[];
  readonly fdb: readonly FdbEntry[];
  readonly fdbKeys: readonly string[];
  readonly neighbour: Neighbour;
  readonly neighbourKey: string;
}

/** @internal */
export interface NodeRec {
  readonly spec: NodeSpec;
  readonly name: string;
  readonly cluster: string;
  readonly underlay: string;
  readonly mtu: number;
  readonly pod: readonly Prefix[];
  readonly gateway: boolean;
  readonly cable: string;
  /** Next hops on the cable by remote cluster (canonical addresses). */
  readonly nextHops: CableNextHops;
  readonly vtep: string;
  readonly mac: string;
  readonly p2p: Contribution;
}

/** A node's VTEP as the state holds it. */
export interface NodeInfo {
  readonly name: string;
  readonly cluster: string;
  readonly underlayIP: string;
  readonly vtep: string;
  readonly vtepMAC: string;
  readonly podCIDRs: readonly string[];
  readonly gateway: boolean;
}

const ZERO_MAC = '00:00:00:00:00:00';
/** Bytes an IPv6 outer header adds to the VXLAN overhead (40 instead of 20). */
const IPV6_EXTRA_HEADER = 20;
/** The smallest VXLAN device MTU a node may end up with (IPv4's minimum datagram size). */
const MIN_VXLAN_MTU = 576;

/** What VXLAN costs over this underlay: the kernel clamps a VXLAN device over IPv6 to underlay MTU - 70. @internal */
export function vxlanOverheadOver(underlay: Family, opts: ResolvedNodeOptions): number {
  return opts.vxlanOverhead + (underlay === 6 ? IPV6_EXTRA_HEADER : 0);
}

/** @internal */
export function intIn(value: unknown, lo: number, hi: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `${field}: ${show(value)} is not an integer in ${lo}..${hi}`,
      { field, value },
    );
  }
  return value;
}

/** @internal */
export function ifname(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[^\s/:]{1,15}$/.test(value)) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `${field}: ${show(value)} is not an interface name (1-15 characters)`,
      {
        field,
        value,
      },
    );
  }
  return value;
}

function vxlan(given: Partial<VxlanOptions> | undefined, dflt: VxlanOptions, field: string): VxlanOptions {
  return {
    name: ifname(given?.name ?? dflt.name, `${field}.name`),
    vni: intIn(given?.vni ?? dflt.vni, 0, 0xff_ffff, `${field}.vni`),
    port: intIn(given?.port ?? dflt.port, 1, 65535, `${field}.port`),
  };
}

/** Options with defaults filled in and checked. */
export function resolveNodeOptions(o: NodeRouteOptions = {}): ResolvedNodeOptions {
  const vtepCIDR = prefixOf(o.vtepCIDR ?? '240.0.0.0/12', 'options.vtepCIDR');
  if (vtepCIDR.family === 6 && vtepCIDR.bits < 96) {
    // The VTEP MAC carries the address's last 32 bits: a wider host part (or a snapshot using it) repeats MACs.
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `options.vtepCIDR: ${vtepCIDR} is wider than /96; VTEP MACs encode only the last 32 bits of the address, so two nodes could share a MAC`,
      { field: 'options.vtepCIDR', value: vtepCIDR.toString() },
    );
  }
  const gatewayVxlan = vxlan(
    o.gatewayVxlan,
    { name: 'vx-submariner', vni: 100, port: 4800 },
    'options.gatewayVxlan',
  );
  const p2pVxlan = vxlan(o.p2pVxlan, { name: 'vx-bridge', vni: 4097, port: 4789 }, 'options.p2pVxlan');
  if (gatewayVxlan.name === p2pVxlan.name) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `gatewayVxlan and p2pVxlan must have different names, both are ${show(p2pVxlan.name)}`,
      {
        field: 'options.p2pVxlan.name',
      },
    );
  }
  if (gatewayVxlan.vni === p2pVxlan.vni && gatewayVxlan.port === p2pVxlan.port) {
    // A P2P node with gateway peers holds both; the kernel refuses a second device with one VNI and port.
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `gatewayVxlan and p2pVxlan must differ in VNI or port, both are VNI ${p2pVxlan.vni} on port ${p2pVxlan.port}`,
      { field: 'options.p2pVxlan.vni' },
    );
  }
  const onOverlap = o.onOverlap ?? 'report';
  if (onOverlap !== 'report' && onOverlap !== 'throw') {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `options.onOverlap: ${show(onOverlap)} is not report or throw`,
      { field: 'options.onOverlap' },
    );
  }
  const table = intIn(o.table ?? 150, 1, 0xffff_ffff, 'options.table');
  if (table >= 253 && table <= 255) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `options.table: ${table} is reserved (253 default, 254 main, 255 local)`,
      {
        field: 'options.table',
        value: table,
      },
    );
  }
  return {
    vtepCIDR: vtepCIDR.toString(),
    vtepFamily: vtepCIDR.family,
    vtepMACPrefix: macPrefixOf(o.vtepMACPrefix ?? '0e:fe', 'options.vtepMACPrefix'),
    gatewayVxlan,
    p2pVxlan,
    vxlanOverhead: intIn(o.vxlanOverhead ?? 50, 0, 200, 'options.vxlanOverhead'),
    table,
    rulePriority: intIn(o.rulePriority ?? 150, 1, 32765, 'options.rulePriority'),
    cableDevice: ifname(o.cableDevice ?? 'submariner', 'options.cableDevice'),
    onOverlap,
  };
}

function cidrList(list: readonly string[] | undefined, field: string, family: Family): Prefix[] {
  if (list !== undefined && !Array.isArray(list)) {
    throw new RoutePlannerError('INVALID_ARGUMENT', `${field} must be a list of CIDRs`, { field });
  }
  return (list ?? []).map((t, i) => {
    const p = prefixOf(t, `${field}[${i}]`);
    if (p.family !== family) {
      throw new RoutePlannerError(
        'INVALID_TOPOLOGY',
        `${field}[${i}]: ${p} is IPv${p.family} but the VTEP CIDR is IPv${family}; node routes are single-stack`,
        { field: `${field}[${i}]`, value: t },
      );
    }
    return p;
  });
}

/** @internal */
export function clusterRec(spec: ClusterSpec, opts: ResolvedNodeOptions): ClusterRec {
  const field = `cluster ${show(spec?.name)}`;
  if (typeof spec?.name !== 'string' || spec.name === '') {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `cluster name must be a non-empty string, got ${show(spec?.name)}`,
      {
        value: spec?.name,
      },
    );
  }
  if (spec.mode !== 'gateway' && spec.mode !== 'p2p') {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `${field}: mode ${show(spec.mode)} is not gateway or p2p`,
      {
        cluster: spec.name,
        value: spec.mode,
      },
    );
  }
  const pod = cidrList(spec.podCIDRs, `${field}.podCIDRs`, opts.vtepFamily);
  const service = cidrList(spec.serviceCIDRs, `${field}.serviceCIDRs`, opts.vtepFamily);
  const global = cidrList(spec.globalCIDRs, `${field}.globalCIDRs`, opts.vtepFamily);
  if (spec.mode === 'p2p' && global.length > 0) {
    throw new RoutePlannerError(
      'INVALID_TOPOLOGY',
      `${field}: globalCIDRs need gateway mode; p2p routes node pod CIDRs directly`,
      {
        cluster: spec.name,
      },
    );
  }
  return {
    spec,
    name: spec.name,
    mode: spec.mode,
    pod,
    exposed: global.length > 0 ? global : [...pod, ...service],
    footprint: [...pod, ...service, ...global],
    nodes: [],
    gateway: undefined,
  };
}

/** Check a node spec against its cluster (and `isCluster`, the clusters its next hops may name); the VTEP comes later. @internal */
export function checkNodeSpec(
  spec: NodeSpec,
  cluster: ClusterRec | undefined,
  opts: ResolvedNodeOptions,
  isCluster: (name: string) => boolean,
) {
  if (typeof spec?.name !== 'string' || spec.name === '') {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `node name must be a non-empty string, got ${show(spec?.name)}`,
      {
        value: spec?.name,
      },
    );
  }
  const field = `node ${show(spec.name)}`;
  if (cluster === undefined) {
    throw new RoutePlannerError(
      'UNKNOWN_CLUSTER',
      `${field}: cluster ${show(spec.cluster)} is not in the topology`,
      {
        node: spec.name,
        cluster: spec.cluster,
      },
    );
  }
  const underlayAddr = addrOf(spec.underlayIP, `${field}.underlayIP`);
  const underlay = underlayAddr.toString();
  if (spec.underlayDevice !== undefined) ifname(spec.underlayDevice, `${field}.underlayDevice`);
  const floor = MIN_VXLAN_MTU + vxlanOverheadOver(underlayAddr.family, opts);
  const mtu = intIn(spec.mtu ?? 1500, floor, 65535, `${field}.mtu`);
  const pod = cidrList(spec.podCIDRs, `${field}.podCIDRs`, opts.vtepFamily);
  for (const p of pod) {
    if (!cluster.pod.some((c) => c.contains(p))) {
      throw new RoutePlannerError(
        'INVALID_TOPOLOGY',
        `${field}: pod CIDR ${p} is not inside cluster ${show(cluster.name)}'s podCIDRs ${cluster.pod.join(', ')}`,
        { node: spec.name, cidr: p.toString() },
      );
    }
  }
  const cable = ifname(spec.cableDevice ?? opts.cableDevice, `${field}.cableDevice`);
  const nextHops = cableNextHopsOf(
    spec.cableNextHops,
    `${field}.cableNextHops`,
    spec.name,
    cluster.name,
    isCluster,
    opts.vtepFamily,
  );
  return { underlay, mtu, pod, cable, nextHops, gateway: spec.gateway === true };
}

/** The P2P contribution of a node: a route per pod CIDR, FDB entries and a permanent neighbour. @internal */
export function contribution(
  pod: readonly Prefix[],
  vtep: string,
  mac: string,
  underlay: string,
  opts: ResolvedNodeOptions,
): Contribution {
  const dev = opts.p2pVxlan.name;
  const routes = pod.map(
    (p): Route =>
      Object.freeze({
        family: opts.vtepFamily,
        table: opts.table,
        dst: p.toString(),
        via: vtep,
        dev,
        onlink: true as const,
      }),
  );
  const fdb = [
    Object.freeze({ dev, lladdr: ZERO_MAC, dst: underlay }),
    Object.freeze({ dev, lladdr: mac, dst: underlay }),
  ];
  const fdbKeys = fdb.map(fdbKey);
  const order = fdbKeys[0]! < fdbKeys[1]! ? [0, 1] : [1, 0];
  const neighbour = Object.freeze({ dev, dst: vtep, lladdr: mac, permanent: true });
  const routeKeys = routes.map(routeKey);
  const ro = routes.map((_, i) => i).sort((a, b) => (routeKeys[a]! < routeKeys[b]! ? -1 : 1));
  return Object.freeze({
    routes: Object.freeze(ro.map((i) => routes[i]!)),
    routeKeys: Object.freeze(ro.map((i) => routeKeys[i]!)),
    fdb: Object.freeze(order.map((i) => fdb[i]!)),
    fdbKeys: Object.freeze(order.map((i) => fdbKeys[i]!)),
    neighbour,
    neighbourKey: neighbourKey(neighbour),
  });
}

/** Cluster-level CIDRs that routes toward `remote` must not overlap, seen from `local`. @internal */
export function hazardsFor(local: ClusterRec, remote: ClusterRec, clusters: Iterable<ClusterRec>): Hazard[] {
  const routable = [...remote.exposed, ...remote.pod];
  const out: Hazard[] = [];
  const consider = (prefix: Prefix, cluster: string) => {
    if (routable.some((r) => r.overlaps(prefix))) out.push({ prefix, cluster });
  };
  for (const p of local.footprint) consider(p, local.name);
  for (const k of clusters) {
    if (k.name === local.name || k.name === remote.name) continue;
    for (const p of k.exposed) consider(p, k.name);
    if (k.mode === 'p2p') for (const p of k.pod) if (!k.exposed.includes(p)) consider(p, k.name);
  }
  return out;
}

/** Hazards for every ordered pair of clusters, keyed "local\u0000remote". @internal */
export function allHazards(clusters: ReadonlyMap<string, ClusterRec>): Map<string, Hazard[]> {
  const out = new Map<string, Hazard[]>();
  for (const l of clusters.values()) {
    for (const r of clusters.values()) {
      if (l.name === r.name) continue;
      const h = hazardsFor(l, r, clusters.values());
      if (h.length > 0) out.set(`${l.name}\u0000${r.name}`, h);
    }
  }
  return out;
}

/** The mutable VTEP pool, owned by the newest state derived from it. @internal */
export interface Core {
  pool: Pool;
  head: unknown;
}

/** Allocator state and per-node records. Treat as immutable: updateTopology returns a new one. */
export class TopologyState {
  /** @internal */ readonly opts: ResolvedNodeOptions;
  /** @internal */ readonly clusters: ReadonlyMap<string, ClusterRec>;
  /** @internal */ readonly nodes: ReadonlyMap<string, NodeRec>;
  /** @internal */ readonly hazards: ReadonlyMap<string, readonly Hazard[]>;
  /** @internal */ readonly underlays: ReadonlyMap<string, string>;
  /** @internal */ core: Core;

  /** @internal */
  constructor(
    opts: ResolvedNodeOptions,
    clusters: ReadonlyMap<string, ClusterRec>,
    nodes: ReadonlyMap<string, NodeRec>,
    hazards: ReadonlyMap<string, readonly Hazard[]>,
    underlays: ReadonlyMap<string, string>,
    core: Core,
  ) {
    this.opts = opts;
    this.clusters = clusters;
    this.nodes = nodes;
    this.hazards = hazards;
    this.underlays = underlays;
    this.core = core;
    core.head = this;
  }

  /** The resolved options. */
  get options(): ResolvedNodeOptions {
    return this.opts;
  }

  /** Node names, sorted. */
  nodeNames(): string[] {
    return [...this.nodes.keys()].sort();
  }

  /** Cluster names, sorted. */
  clusterNames(): string[] {
    return [...this.clusters.keys()].sort();
  }

  /** A node's VTEP and role, or undefined. */
  node(name: string): NodeInfo | undefined {
    const n = this.nodes.get(name);
    if (!n) return undefined;
    return {
      name: n.name,
      cluster: n.cluster,
      underlayIP: n.underlay,
      vtep: n.vtep,
      vtepMAC: n.mac,
      podCIDRs: n.pod.map(String),
      gateway: n.gateway,
    };
  }

  /** The active gateway of a cluster, if any. */
  gatewayOf(cluster: string): string | undefined {
    return this.clusters.get(cluster)?.gateway;
  }

  /** Plain JSON to restore VTEP addresses from (pass as `previous` to createTopologyState). */
  snapshot(): TopologySnapshot {
    const allocations = [...this.nodes.values()]
      .map((n) => [n.name, n.vtep] as const)
      .sort((a, b) => (addrSortKey(a[1]) < addrSortKey(b[1]) ? -1 : 1));
    return { version: 1, vteps: { version: 1, pool: 'vtep', subnet: this.opts.vtepCIDR, allocations } };
  }

  /** The VTEP pool, rebuilt when this state is not the newest of its line (so old states stay valid). @internal */
  ownPool(): Pool {
    if (this.core.head === this) return this.core.pool;
    const pool = createPool(
      { name: 'vtep', subnet: this.opts.vtepCIDR },
      { expectedOwners: this.nodes.size },
    );
    for (const n of this.nodes.values()) pool.reserve(n.name, n.vtep);
    this.core = { pool, head: this };
    return pool;
  }
}

/** A node record with its VTEP, allocated (or restored) from the pool. @internal */
export function nodeRec(
  spec: NodeSpec,
  checked: ReturnType<typeof checkNodeSpec>,
  vtep: string,
  opts: ResolvedNodeOptions,
): NodeRec {
  const mac = macFromAddr(opts.vtepMACPrefix, addrOf(vtep, 'vtep'));
  return Object.freeze({
    spec,
    name: spec.name,
    cluster: spec.cluster,
    underlay: checked.underlay,
    mtu: checked.mtu,
    pod: checked.pod,
    gateway: checked.gateway,
    cable: checked.cable,
    nextHops: checked.nextHops,
    vtep,
    mac,
    p2p: contribution(checked.pod, vtep, mac, checked.underlay, opts),
  });
}

/** Allocate VTEPs for owners, all or nothing. @internal */
export function allocateVteps(pool: Pool, owners: readonly string[]): string[] {
  const done: string[] = [];
  try {
    for (const o of owners) {
      done.push(pool.allocate(o).toString());
    }
  } catch (e) {
    for (let i = 0; i < done.length; i++) pool.release(owners[i]!);
    if (IpamError.isInstance(e) && e.code === 'POOL_EXHAUSTED') {
      throw new RoutePlannerError(
        'VTEP_POOL_EXHAUSTED',
        `no VTEP address left for node ${show(owners[done.length])}: ${e.message}; widen options.vtepCIDR`,
        { node: owners[done.length], pool: e.details },
      );
    }
    throw e;
  }
  return done;
}

/** Check one cluster's nodes for overlapping pod CIDRs and its gateways. @internal */
export function checkClusterNodes(
  cluster: ClusterRec,
  nodes: ReadonlyArray<{ readonly name: string; readonly pod: readonly Prefix[]; readonly gateway: boolean }>,
): void {
  const gws = nodes.filter((n) => n.gateway).map((n) => n.name);
  if (gws.length > 1) {
    throw new RoutePlannerError(
      'INVALID_TOPOLOGY',
      `cluster ${show(cluster.name)} has ${gws.length} active gateways: ${gws.join(', ')}`,
      {
        cluster: cluster.name,
        gateways: gws,
      },
    );
  }
  const all = nodes.flatMap((n) => n.pod.map((p) => ({ p, n: n.name })));
  all.sort((a, b) => a.p.compare(b.p));
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    if (a.p.overlaps(b.p)) {
      throw new RoutePlannerError(
        'CIDR_OVERLAP',
        `nodes ${show(a.n)} and ${show(b.n)} of cluster ${show(cluster.name)} have overlapping pod CIDRs ${a.p} and ${b.p}`,
        { cluster: cluster.name, nodes: [a.n, b.n], cidrs: [a.p.toString(), b.p.toString()] },
      );
    }
  }
}

/** Throw CIDR_OVERLAP for the first cluster-level overlap when options.onOverlap is throw. @internal */
export function throwOnHazards(
  hazards: ReadonlyMap<string, readonly Hazard[]>,
  opts: ResolvedNodeOptions,
): void {
  if (opts.onOverlap !== 'throw' || hazards.size === 0) return;
  const [key, list] = [...hazards.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))[0]!;
  const [local, remote] = key.split('\u0000') as [string, string];
  const h = list[0]!;
  throw new RoutePlannerError(
    'CIDR_OVERLAP',
    `routes of cluster ${show(remote)} overlap ${h.prefix} of cluster ${show(h.cluster)} (seen from ${show(local)}); give the clusters global CIDRs (@isthmus/globalnet-ipam)`,
    {
      local,
      remote,
      cidr: h.prefix.toString(),
      cluster: h.cluster,
      all: list.map((x) => ({ cidr: x.prefix.toString(), cluster: x.cluster })),
    },
  );
}

/**
 * Build the state of a topology: validate clusters and nodes, and give every node a VTEP address from the
 * pool over options.vtepCIDR (restored from `previous` when given, new nodes in name order).
 */
export function createTopologyState(topology: Topology): TopologyState {
  const opts = resolveNodeOptions(topology?.options);
  if (!Array.isArray(topology?.clusters) || !Array.isArray(topology.nodes)) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      'topology must have clusters: [...] and nodes: [...]',
      {},
    );
  }
  const clusters = new Map<string, ClusterRec>();
  for (const c of topology.clusters) {
    const rec = clusterRec(c, opts);
    if (clusters.has(rec.name))
      throw new RoutePlannerError('DUPLICATE_NAME', `cluster ${show(rec.name)} is listed twice`, {
        cluster: rec.name,
      });
    clusters.set(rec.name, rec);
  }
  const checked = new Map<string, { spec: NodeSpec; c: ReturnType<typeof checkNodeSpec> }>();
  const underlays = new Map<string, string>();
  for (const n of topology.nodes) {
    const c = checkNodeSpec(n, clusters.get(n?.cluster), opts, (name) => clusters.has(name));
    if (checked.has(n.name))
      throw new RoutePlannerError('DUPLICATE_NAME', `node ${show(n.name)} is listed twice`, { node: n.name });
    const other = underlays.get(c.underlay);
    if (other !== undefined) {
      throw new RoutePlannerError(
        'DUPLICATE_NAME',
        `nodes ${show(other)} and ${show(n.name)} share underlay IP ${c.underlay}`,
        {
          nodes: [other, n.name],
          underlayIP: c.underlay,
        },
      );
    }
    underlays.set(c.underlay, n.name);
    checked.set(n.name, { spec: n, c });
  }
  const hazards = allHazards(clusters);
  throwOnHazards(hazards, opts);
  let pool: Pool;
  const spec = { name: 'vtep', subnet: opts.vtepCIDR };
  if (topology.previous !== undefined) {
    try {
      pool = restorePool(spec, topology.previous.vteps);
    } catch (e) {
      if (!IpamError.isInstance(e)) throw e;
      throw new RoutePlannerError('SNAPSHOT_CONFLICT', `cannot restore VTEP addresses: ${e.message}`, {
        cause: e.code,
        ...e.details,
      });
    }
    for (const [owner] of pool.allocations()) if (!checked.has(owner)) pool.release(owner);
  } else {
    pool = createPool(spec, { expectedOwners: checked.size });
  }
  const names = [...checked.keys()].sort();
  const fresh = names.filter((n) => !pool.has(n));
  allocateVteps(pool, fresh);
  const nodes = new Map<string, NodeRec>();
  for (const name of names) {
    const { spec: s, c } = checked.get(name)!;
    nodes.set(name, nodeRec(s, c, pool.addressesOf(name)[0]!.toString(), opts));
  }
  const byCluster = new Map<string, NodeRec[]>();
  for (const n of nodes.values()) {
    const list = byCluster.get(n.cluster) ?? [];
    list.push(n);
    byCluster.set(n.cluster, list);
  }
  for (const [name, rec] of clusters) {
    const list = byCluster.get(name) ?? [];
    checkClusterNodes(rec, list);
    clusters.set(name, {
      ...rec,
      nodes: list.map((n) => n.name),
      gateway: list.find((n) => n.gateway)?.name,
    });
  }
  return new TopologyState(opts, clusters, nodes, hazards, underlays, { pool, head: undefined });
}
