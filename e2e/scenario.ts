// The two-cluster scenario as plain data: every address, plan and rendered text the kernel build
// (kernel.ts), the e2e tests and `pnpm demo` use. Pure: no clock, no randomness, no I/O; keys are
// passed in (or derived from node names for a dry-run printout).
import { createHash } from 'node:crypto';
import {
  type CablePlan,
  type FailoverPlan,
  type GatewayEndpoint,
  planCable,
  planFailover,
  renderMssClampNft,
  Secret,
  wireGuardPublicKey,
} from '@isthmus/cable';
import {
  allocateClusterCidr,
  createGlobalnet,
  DEFAULT_GLOBAL_RANGE,
  type GlobalnetNatPlan,
  type IngressBinding,
  type PodInfo,
  planGlobalnetNat,
  renderNft,
} from '@isthmus/globalnet-ipam';
import { createPool } from '@isthmus/ipam';
import {
  type ClusterSpec,
  createTopologyState,
  macFromKey,
  mergePlans,
  type NodeSpec,
  type Plan,
  type PlanDiff,
  type PodNic,
  type PodRoutePlan,
  planNodeHost,
  planNodeRoutes,
  planPodRoutes,
  type RouteConflict,
  type Topology,
  updateTopology,
} from '@isthmus/route-planner';

/** Bad scenario input: a stable `code` and the offending value in the message. */
export class ScenarioError extends Error {
  constructor(
    readonly code: 'INVALID_OPTION' | 'NOT_GATEWAY_MODE' | 'NOT_A_GATEWAY_NODE',
    message: string,
  ) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export type ScenarioDriver = 'wireguard' | 'vxlan';
export type ScenarioMode = 'gateway' | 'p2p';
export type ClusterName = 'west' | 'east';
export type NodeRole = 'gateway' | 'standby' | 'worker';

/** A gateway node's WireGuard key pair; the private key stays a redacting Secret. */
export interface NodeKeys {
  readonly privateKey: Secret;
  readonly publicKey: string;
}

export interface ScenarioOptions {
  readonly driver: ScenarioDriver;
  readonly mode: ScenarioMode;
  /**
   * WireGuard keys by gateway node name (all four gateway-capable nodes). Omitted: keys derived from
   * the node names, fit for printing a plan only (anyone can derive them).
   */
  readonly keys?: Readonly<Record<string, NodeKeys>>;
  /**
   * WireGuard interface name per gateway node. They must be unique on the machine (wireguard-go's
   * control socket is /var/run/wireguard/<name>.sock); default `wg-<node>`.
   */
  readonly wgNames?: Readonly<Record<string, string>>;
  /** Gateway lease duration for electGateway (default 2 s, short so failover tests stay quick). */
  readonly leaseDurationSeconds?: number;
}

/** A node (network namespace `ns` in the lab) and every plan applied to it. */
export interface ScenarioNode {
  readonly name: string;
  /** Short name for the lab namespace (`<lab id>-<ns>`). */
  readonly ns: string;
  readonly cluster: ClusterName;
  readonly role: NodeRole;
  /** Address on the underlay NIC `eth0` ("198.18.1.1"), prefix length in `Scenario.underlay`. */
  readonly underlayIp: string;
  /** The node's slice of the cluster pod CIDR. */
  readonly podCidr: string;
  /**
   * route-planner's plan for the node (planNodeRoutes, gateway or P2P) merged with planNodeHost of its
   * pods' host plans. Empty for nodes outside the P2P mesh.
   */
  readonly routes: Plan;
  readonly conflicts: readonly RouteConflict[];
  /** What stands for Kubernetes' CNI: pod veths (peer `eth0` in the pod), routes to other nodes' pod CIDRs. */
  readonly kubernetes: Plan;
  /** kube-proxy stand-in: nft DNAT of the cluster's ClusterIP to its endpoints (every node). */
  readonly kubeProxyNft: string;
  /** The Globalnet NAT when it runs on this node (active gateway, or the worker in P2P mode). */
  readonly nat: { readonly plan: GlobalnetNatPlan; readonly nft: string } | null;
  /** The cable when this is an active gateway in gateway mode. */
  readonly cable: { readonly plan: CablePlan; readonly mssNft: string } | null;
}

/** A pod (network namespace) and the plans for it. */
export interface ScenarioPod {
  readonly name: string;
  readonly ns: string;
  readonly namespace: string;
  readonly cluster: ClusterName;
  readonly node: string;
  /** The pod IP on eth0 (overlapping: both clusters use the same ones). */
  readonly ip: string;
  /** The NICs as the CNI (and Multus, for net1) leave them: the input of planPodRoutes. */
  readonly nics: readonly PodNic[];
  /** planPodRoutes: `pod` is applied in the pod, `host` is merged into the node's routes. */
  readonly plan: PodRoutePlan;
  /** The CNI's side of the pod: eth0's address and link (applied before `plan.pod`). */
  readonly kubernetes: Plan;
  /** The host-side veth name of eth0 (in the node). */
  readonly hostVeth: string;
  /** Ingress global IP of the pod, when it has one (headless-style export). */
  readonly globalIp: string | null;
  /** Port of the TCP responder every pod runs (answers with the peer address it sees). */
  readonly port: number;
}

export interface ScenarioService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIp: string;
  readonly port: number;
  readonly endpoints: readonly string[];
  readonly globalIp: string;
}

export interface ScenarioCluster {
  readonly name: ClusterName;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** From allocateClusterCidr. */
  readonly globalCidr: string;
  /** The cluster egress block (createGlobalnet allocateEgress cluster scope). */
  readonly egressIps: readonly string[];
  readonly gateway: string;
  readonly standby: string;
  readonly worker: string;
  readonly service: ScenarioService;
  /** Where ingress DNAT leads the service's global IP: its ClusterIP, or (P2P, NAT beside kube-proxy) its endpoint. */
  readonly serviceIngressTo: 'cluster-ip' | 'endpoint';
}

/** One row of the connectivity matrix: a pod reaching a remote global IP. */
export interface Expectation {
  readonly from: string;
  readonly fromCluster: ClusterName;
  readonly to: string;
  readonly port: number;
  readonly target: { readonly kind: 'service' | 'pod'; readonly name: string; readonly cluster: ClusterName };
  /** The pod that answers (the service's endpoint, or the pod itself). */
  readonly answeredBy: string;
  /** The source the receiver must see: one of these global IPs (never a pod IP). */
  readonly expectedSources: readonly string[];
  /** Whether an ICMP echo is expected to work too (pod global IPs). */
  readonly ping: boolean;
}

export interface ScenarioMtu {
  /** The largest IPv4 packet a DF ping may send pod to remote pod (ping -s this - 28). */
  readonly largestDfPing: number;
  /** Which device limits it. */
  readonly limitedBy: string;
  readonly from: string;
  readonly to: string;
}

export interface TwoNicCheck {
  readonly pod: string;
  readonly eth0Ip: string;
  readonly net1Ip: string;
  /** An underlay address outside the pod's node, reached through net1. */
  readonly underlayPeer: string;
  /** The pod's node: it pings net1's address over the underlay; the reply must leave net1. */
  readonly node: string;
}

export interface Scenario {
  readonly version: 1;
  readonly driver: ScenarioDriver;
  readonly mode: ScenarioMode;
  readonly underlay: {
    readonly cidr: string;
    readonly prefixLength: number;
    readonly device: string;
    readonly mtu: number;
  };
  readonly clusters: readonly [ScenarioCluster, ScenarioCluster];
  readonly nodes: readonly ScenarioNode[];
  readonly pods: readonly ScenarioPod[];
  /** The route-planner input (plain), kept so gateway changes can be planned later. */
  readonly topology: Topology;
  /** Cable endpoints of every gateway-capable node (for re-planning cables on failover). */
  readonly endpoints: Readonly<Record<string, GatewayEndpoint>>;
  readonly keys: Readonly<Record<string, NodeKeys>> | null;
  readonly wgNames: Readonly<Record<string, string>>;
  readonly leaseDurationSeconds: number;
  readonly expectations: readonly Expectation[];
  readonly mtu: ScenarioMtu;
  readonly twoNic: TwoNicCheck;
}

const UNDERLAY = '198.18.0.0/15';
const UNDERLAY_BITS = 15;
const LINK_MTU = 1500;
const POD_CIDR = '10.244.0.0/16';
const SERVICE_CIDR = '10.96.0.0/16';
const CLUSTER_IP = '10.96.0.10';
const PORT = 8080;
const CABLE_VTEPS = '241.0.0.0/8';

interface NodeLayout {
  name: string;
  ns: string;
  cluster: ClusterName;
  role: NodeRole;
  underlayIp: string;
  podCidr: string;
}

interface PodLayout {
  name: string;
  ns: string;
  cluster: ClusterName;
  node: string;
  ip: string;
  net1?: string;
  exported: boolean;
}

const SECOND_OCTET: Record<ClusterName, number> = { west: 18, east: 19 };
const ROLES: readonly [NodeRole, string, number][] = [
  ['gateway', 'gw', 0],
  ['standby', 'gw2', 1],
  ['worker', 'worker', 2],
];

function nodeLayout(): NodeLayout[] {
  return (['west', 'east'] as const).flatMap((cluster) =>
    ROLES.map(([role, suffix, i]) => ({
      name: `${cluster}-${suffix}`,
      ns: `${cluster[0]}${suffix === 'gw' ? 'gw' : suffix === 'gw2' ? 'sb' : 'wk'}`,
      cluster,
      role,
      underlayIp: `198.${SECOND_OCTET[cluster]}.1.${i + 1}`,
      podCidr: `10.244.${i}.0/24`,
    })),
  );
}

// Both clusters' pods sit on the worker with the same IPs: the overlap globalnet exists for.
const PODS: readonly PodLayout[] = [
  { name: 'west-app', ns: 'wapp', cluster: 'west', node: 'west-worker', ip: '10.244.2.10', exported: false },
  {
    name: 'west-multi',
    ns: 'wmul',
    cluster: 'west',
    node: 'west-worker',
    ip: '10.244.2.11',
    net1: '198.18.200.11',
    exported: true,
  },
  { name: 'east-app', ns: 'eapp', cluster: 'east', node: 'east-worker', ip: '10.244.2.10', exported: true },
  {
    name: 'east-other',
    ns: 'eoth',
    cluster: 'east',
    node: 'east-worker',
    ip: '10.244.2.11',
    exported: false,
  },
];
/** The pod behind each cluster's service. */
const ENDPOINT: Record<ClusterName, string> = { west: 'west-app', east: 'east-app' };

/** Keys derived from node names: deterministic, so a plan can be printed without randomness. Not secret. */
function derivedKeys(nodes: readonly string[]): Record<string, NodeKeys> {
  const out: Record<string, NodeKeys> = {};
  for (const n of nodes) {
    const k = createHash('sha256').update(`isthmus e2e dry-run key ${n}`).digest();
    k[0]! &= 248;
    k[31]! &= 127;
    k[31]! |= 64;
    const privateKey = new Secret(k.toString('base64'));
    out[n] = { privateKey, publicKey: wireGuardPublicKey(privateKey) };
  }
  return out;
}

/** The addresses of an nft SNAT target, `a` or `a-b` (IPv4). */
function expandRange(to: string): string[] {
  const [a, b = a] = to.split('-');
  const n = (t: string) => t.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const out: string[] = [];
  for (let i = n(a!); i <= n(b!); i++) out.push([24, 16, 8, 0].map((s) => (i >>> s) & 255).join('.'));
  return out;
}

/** The global IPs a pod's traffic to another cluster leaves with, read from the NAT plan (most specific first). */
export function sourcesOf(plan: GlobalnetNatPlan, podIp: string): string[] {
  const e = plan.egress;
  const addr = [...e.headlessPods, ...e.headlessEndpoints].find((x) => x.source === podIp);
  if (addr !== undefined) return expandRange(addr.to);
  const set = [...e.pods, ...e.namespaces].find((x) => x.elements.includes(podIp));
  if (set !== undefined) return expandRange(set.to);
  const inCidr = (cidr: string) => {
    const [base, bits] = cidr.split('/');
    const n = (t: string) => t.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
    return (n(podIp) & mask) >>> 0 === (n(base!) & mask) >>> 0;
  };
  const cidr = e.cluster.find((x) => inCidr(x.source));
  return cidr === undefined ? [] : expandRange(cidr.to);
}

/** kube-proxy's job as nft text: DNAT the ClusterIP to the endpoints, for forwarded and local traffic. */
export function renderKubeProxyNft(svc: {
  clusterIp: string;
  port: number;
  endpoints: readonly string[];
}): string {
  const to =
    svc.endpoints.length === 1
      ? `dnat to ${svc.endpoints[0]}:${svc.port}`
      : `dnat to numgen random mod ${svc.endpoints.length} map { ${svc.endpoints.map((e, i) => `${i} : ${e}`).join(', ')} } : ${svc.port}`;
  const rule = `ip daddr ${svc.clusterIp} tcp dport ${svc.port} ${to}`;
  return [
    'table ip e2e-kube-proxy {}',
    'delete table ip e2e-kube-proxy',
    'table ip e2e-kube-proxy {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    ${rule}`,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ${rule}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

const EMPTY: Plan = mergePlans();

interface Built {
  clusters: [ScenarioCluster, ScenarioCluster];
  natPlans: Record<ClusterName, GlobalnetNatPlan>;
  podGlobal: Map<string, string>;
}

/** Global CIDRs, global IPs and the NAT plan of each cluster. */
function planGlobalnet(mode: ScenarioMode): Built {
  const west = allocateClusterCidr({}, 'west');
  const east = allocateClusterCidr(west.allotments, 'east');
  const cidrs: Record<ClusterName, string> = { west: west.cidr, east: east.cidr };
  const podGlobal = new Map<string, string>();
  const clusters = [] as unknown as [ScenarioCluster, ScenarioCluster];
  const natPlans = {} as Record<ClusterName, GlobalnetNatPlan>;
  for (const name of ['west', 'east'] as const) {
    const other: ClusterName = name === 'west' ? 'east' : 'west';
    const gn = createGlobalnet({ globalCidr: cidrs[name] });
    const egressIps = gn.allocateEgress({ kind: 'cluster' });
    const svc = { namespace: 'demo', name: 'echo' };
    const svcGlobal = gn.allocateIngress({ kind: 'service', ...svc });
    const pods = PODS.filter((p) => p.cluster === name);
    for (const p of pods)
      if (p.exported)
        podGlobal.set(p.name, gn.allocateIngress({ kind: 'pod', namespace: 'demo', name: p.name }));
    const endpointIp = PODS.find((p) => p.name === ENDPOINT[name])!.ip;
    // Beside kube-proxy (P2P: NAT on the worker) a DNAT to the ClusterIP would never meet kube-proxy's.
    const serviceIngressTo = mode === 'gateway' ? 'cluster-ip' : 'endpoint';
    const ingress: IngressBinding[] = gn
      .ingress()
      .map((i) =>
        i.target.kind === 'service'
          ? { ...i, ip: serviceIngressTo === 'cluster-ip' ? CLUSTER_IP : endpointIp }
          : i,
      );
    const podInfo: PodInfo[] = pods.map((p) => ({ namespace: 'demo', name: p.name, ips: [p.ip] }));
    natPlans[name] = planGlobalnetNat({
      globalCidr: cidrs[name],
      localCidrs: [POD_CIDR, SERVICE_CIDR],
      remoteGlobalCidrs: [cidrs[other]],
      egress: gn.egress(),
      ingress,
      pods: podInfo,
    });
    const nodeOf = (role: NodeRole) => nodeLayout().find((n) => n.cluster === name && n.role === role)!.name;
    clusters.push({
      name,
      podCidr: POD_CIDR,
      serviceCidr: SERVICE_CIDR,
      globalCidr: cidrs[name],
      egressIps,
      gateway: nodeOf('gateway'),
      standby: nodeOf('standby'),
      worker: nodeOf('worker'),
      service: {
        ...svc,
        clusterIp: CLUSTER_IP,
        port: PORT,
        endpoints: [ENDPOINT[name]],
        globalIp: svcGlobal,
      },
      serviceIngressTo,
    });
  }
  return { clusters, natPlans, podGlobal };
}

/** The route-planner topology: all six nodes in gateway mode; in P2P mode the workers, addressed by global CIDR. */
function topologyOf(
  mode: ScenarioMode,
  clusters: readonly ScenarioCluster[],
  cableDevice: (node: string) => string,
  nextHops: (node: string) => Readonly<Record<string, string>> | undefined,
): Topology {
  const layout = nodeLayout();
  if (mode === 'gateway') {
    const specs: ClusterSpec[] = clusters.map((c) => ({
      name: c.name,
      mode: 'gateway',
      podCIDRs: [c.podCidr],
      serviceCIDRs: [c.serviceCidr],
      globalCIDRs: [c.globalCidr],
    }));
    const nodes: NodeSpec[] = layout.map((n) => {
      const hops = nextHops(n.name);
      return {
        name: n.name,
        cluster: n.cluster,
        underlayIP: n.underlayIp,
        underlayDevice: 'eth0',
        mtu: LINK_MTU,
        podCIDRs: [n.podCidr],
        ...(n.role === 'gateway' && { gateway: true }),
        ...(n.role !== 'worker' && { cableDevice: cableDevice(n.name) }),
        ...(hops !== undefined && { cableNextHops: hops }),
      };
    });
    return { clusters: specs, nodes };
  }
  // Overlapping pod CIDRs cannot be routed node to node: each worker is reached at its cluster's global CIDR.
  return {
    clusters: clusters.map((c) => ({ name: c.name, mode: 'p2p', podCIDRs: [c.globalCidr] })),
    nodes: layout
      .filter((n) => n.role === 'worker')
      .map((n) => ({
        name: n.name,
        cluster: n.cluster,
        underlayIP: n.underlayIp,
        underlayDevice: 'eth0',
        mtu: LINK_MTU,
        podCIDRs: [clusters.find((c) => c.name === n.cluster)!.globalCidr],
      })),
  };
}

/** The cable endpoint of a gateway-capable node. */
function endpointOf(
  n: NodeLayout,
  cluster: ScenarioCluster,
  keys: Readonly<Record<string, NodeKeys>> | null,
  vtep: string,
): GatewayEndpoint {
  return {
    clusterId: n.cluster,
    node: n.name,
    privateIp: n.underlayIp,
    privateSubnet: UNDERLAY,
    subnets: [cluster.globalCidr],
    vtepIp: vtep,
    ...(keys !== null && { publicKey: keys[n.name]!.publicKey }),
  };
}

/**
 * The gateway's next hop on its cable per remote cluster, for route-planner's `cableNextHops`: through a
 * VXLAN cable (L2, learning off) the remote VTEP, or the kernel would ARP for every remote pod on the
 * tunnel; none for WireGuard (L3: route-planner's link routes are right).
 */
export function cableNextHops(plan: CablePlan): Readonly<Record<string, string>> | undefined {
  if (plan.driver !== 'vxlan') return undefined;
  return Object.fromEntries(plan.peers.map((p) => [p.clusterId, p.remoteVtep]));
}

/** The cable of `local` toward the given remote gateways. */
export function planGatewayCable(
  scenario: Pick<Scenario, 'driver' | 'keys' | 'wgNames' | 'endpoints'>,
  local: string,
  remotes: readonly string[],
): CablePlan {
  const ep = scenario.endpoints[local]!;
  const rs = remotes.map((r) => scenario.endpoints[r]!);
  if (scenario.driver === 'wireguard') {
    return planCable(ep, rs, {
      driver: 'wireguard',
      privateKey: scenario.keys![local]!.privateKey,
      interfaceName: scenario.wgNames[local]!,
      linkMtu: LINK_MTU,
    });
  }
  return planCable(ep, rs, { driver: 'vxlan', vtepCidr: CABLE_VTEPS, linkMtu: LINK_MTU });
}

function cableDeviceName(
  driver: ScenarioDriver,
  wgNames: Readonly<Record<string, string>>,
  node: string,
): string {
  return driver === 'wireguard' ? wgNames[node]! : 'vxlan-tunnel';
}

/** The pods' NICs and routes (planPodRoutes, overlay mode: eth0 is the CNI's veth, net1 sits on the underlay). */
function planPod(p: PodLayout, nodeIp: string): ScenarioPod {
  const nics: PodNic[] = [
    { name: 'eth0', addresses: [`${p.ip}/32`] },
    ...(p.net1 === undefined ? [] : [{ name: 'net1', addresses: [`${p.net1}/${UNDERLAY_BITS}`] }]),
  ];
  const plan = planPodRoutes({
    nics,
    nodeIPs: [nodeIp],
    clusterPodCIDRs: [POD_CIDR],
    serviceCIDRs: [SERVICE_CIDR],
    // Remote clusters are reached at their global IPs, through the node.
    hijackCIDRs: [DEFAULT_GLOBAL_RANGE],
    mode: 'overlay',
    podKey: p.name,
  });
  const hostVeth = `c-${p.ns}`;
  const kubernetes = mergePlans({
    devices: [{ kind: 'link', name: 'eth0', up: true }],
    addresses: nics.flatMap((n) => n.addresses.map((a) => ({ dev: n.name, address: a, family: 4 as const }))),
  });
  return {
    name: p.name,
    ns: p.ns,
    namespace: 'demo',
    cluster: p.cluster,
    node: p.node,
    ip: p.ip,
    nics,
    plan,
    kubernetes,
    hostVeth,
    globalIp: null,
    port: PORT,
  };
}

/** The CNI's side of a node: a veth per pod and host-gw routes to the other nodes' pod CIDRs. */
function kubernetesOf(
  n: NodeLayout,
  pods: readonly ScenarioPod[],
  worker: NodeLayout,
  peers: readonly NodeLayout[],
): Plan {
  const mine = pods.filter((p) => p.node === n.name);
  return mergePlans({
    devices: mine.map((p) => ({
      kind: 'veth' as const,
      name: p.hostVeth,
      mac: macFromKey(`cni|host|${p.name}`),
      mtu: LINK_MTU,
      peer: 'eth0',
      peerMac: macFromKey(`cni|pod|${p.name}`),
    })),
    routes: [
      ...mine.map((p) => ({
        family: 4 as const,
        table: 254,
        dst: `${p.ip}/32`,
        dev: p.hostVeth,
        scope: 'link' as const,
      })),
      ...peers
        .filter((o) => o.name !== n.name)
        .map((o) => ({ family: 4 as const, table: 254, dst: o.podCidr, via: o.underlayIp, dev: 'eth0' })),
      // Where the globalnet DNAT (to a ClusterIP) runs beside no kube-proxy binding: send it to a node that has one.
      ...(n.role === 'worker'
        ? []
        : [{ family: 4 as const, table: 254, dst: SERVICE_CIDR, via: worker.underlayIp, dev: 'eth0' }]),
    ],
  });
}

/**
 * Plans the whole two-cluster scenario: both clusters (gateway, standby gateway, worker; four pods, one
 * with two NICs) on overlapping pod and service CIDRs, joined through Globalnet global IPs, in gateway
 * mode (a cable between the active gateways) or P2P mode (workers directly, NAT on the workers).
 */
export function planScenario(options: ScenarioOptions): Scenario {
  const { driver, mode } = options;
  if (driver !== 'wireguard' && driver !== 'vxlan')
    throw new ScenarioError('INVALID_OPTION', `driver ${JSON.stringify(driver)} must be wireguard or vxlan`);
  if (mode !== 'gateway' && mode !== 'p2p')
    throw new ScenarioError('INVALID_OPTION', `mode ${JSON.stringify(mode)} must be gateway or p2p`);
  const layout = nodeLayout();
  const gatewayNodes = layout.filter((n) => n.role !== 'worker').map((n) => n.name);
  const keys = driver === 'wireguard' ? (options.keys ?? derivedKeys(gatewayNodes)) : null;
  const wgNames: Record<string, string> = {};
  if (driver === 'wireguard')
    for (const n of gatewayNodes) wgNames[n] = options.wgNames?.[n] ?? `wg-${n}`.slice(0, 15);
  const { clusters, natPlans, podGlobal } = planGlobalnet(mode);
  const clusterOf = (name: ClusterName) => clusters.find((c) => c.name === name)!;

  const vtepPool = createPool({ name: 'cable-vteps', subnet: CABLE_VTEPS });
  const endpoints: Record<string, GatewayEndpoint> = {};
  for (const n of layout.filter((x) => x.role !== 'worker'))
    endpoints[n.name] = endpointOf(n, clusterOf(n.cluster), keys, vtepPool.allocate(n.name).toString());

  // The active gateways' cables come first: their next hops (VXLAN's remote VTEPs) go into the topology.
  const cables = new Map<string, CablePlan>();
  if (mode === 'gateway') {
    for (const n of layout.filter((x) => x.role === 'gateway')) {
      const remote = layout.find((o) => o.cluster !== n.cluster && o.role === 'gateway')!;
      cables.set(n.name, planGatewayCable({ driver, keys, wgNames, endpoints }, n.name, [remote.name]));
    }
  }
  const topology = topologyOf(
    mode,
    clusters,
    (n) => cableDeviceName(driver, wgNames, n),
    (n) => {
      const cable = cables.get(n);
      return cable === undefined ? undefined : cableNextHops(cable);
    },
  );
  const state = createTopologyState(topology);
  const inMesh = new Set(topology.nodes.map((n) => n.name));

  const pods: ScenarioPod[] = [];
  const hostPlans = new Map<string, Plan[]>();
  for (const p of PODS) {
    const node = layout.find((n) => n.name === p.node)!;
    const pod = planPod(p, node.underlayIp);
    pods.push({ ...pod, globalIp: podGlobal.get(p.name) ?? null });
    hostPlans.set(p.node, [...(hostPlans.get(p.node) ?? []), pod.plan.host]);
  }

  const nodes: ScenarioNode[] = layout.map((n) => {
    const cluster = clusterOf(n.cluster);
    const peers = layout.filter((o) => o.cluster === n.cluster);
    const worker = peers.find((o) => o.role === 'worker')!;
    const planned = inMesh.has(n.name) ? planNodeRoutes(state, n.name) : { plan: EMPTY, conflicts: [] };
    const hosts = planNodeHost(hostPlans.get(n.name) ?? []);
    const natHere = mode === 'gateway' ? n.role === 'gateway' : n.role === 'worker';
    const cable = cables.get(n.name) ?? null;
    return {
      name: n.name,
      ns: n.ns,
      cluster: n.cluster,
      role: n.role,
      underlayIp: n.underlayIp,
      podCidr: n.podCidr,
      routes: mergePlans(planned.plan, hosts),
      conflicts: planned.conflicts,
      kubernetes: kubernetesOf(n, pods, worker, peers),
      kubeProxyNft: renderKubeProxyNft({
        clusterIp: cluster.service.clusterIp,
        port: cluster.service.port,
        endpoints: cluster.service.endpoints.map((e) => pods.find((p) => p.name === e)!.ip),
      }),
      nat: natHere ? { plan: natPlans[n.cluster], nft: renderNft(natPlans[n.cluster]) } : null,
      cable: cable === null ? null : { plan: cable, mssNft: renderMssClampNft(cable.mssClamp) },
    };
  });

  const expectations: Expectation[] = [];
  for (const p of pods) {
    const remote = clusterOf(p.cluster === 'west' ? 'east' : 'west');
    const sources = sourcesOf(natPlans[p.cluster], p.ip);
    expectations.push({
      from: p.name,
      fromCluster: p.cluster,
      to: remote.service.globalIp,
      port: remote.service.port,
      target: {
        kind: 'service',
        name: `${remote.service.namespace}/${remote.service.name}`,
        cluster: remote.name,
      },
      answeredBy: remote.service.endpoints[0]!,
      expectedSources: sources,
      ping: false,
    });
    for (const q of pods.filter((x) => x.cluster === remote.name && x.globalIp !== null)) {
      expectations.push({
        from: p.name,
        fromCluster: p.cluster,
        to: q.globalIp!,
        port: q.port,
        target: { kind: 'pod', name: q.name, cluster: remote.name },
        answeredBy: q.name,
        expectedSources: sources,
        ping: true,
      });
    }
  }

  const vxMtu = (node: string, dev: string) => {
    const d = nodes.find((n) => n.name === node)!.routes.devices.find((x) => x.name === dev);
    return d?.kind === 'vxlan' ? d.mtu : Number.POSITIVE_INFINITY;
  };
  const limits: [string, number][] =
    mode === 'gateway'
      ? [
          [
            'vx-submariner',
            Math.min(vxMtu('west-worker', 'vx-submariner'), vxMtu('east-worker', 'vx-submariner')),
          ],
          [`cable (${driver})`, nodes.find((n) => n.name === 'west-gw')!.cable!.plan.mtu],
        ]
      : [['vx-bridge', Math.min(vxMtu('west-worker', 'vx-bridge'), vxMtu('east-worker', 'vx-bridge'))]];
  const [limitedBy, largest] = limits.reduce((a, b) => (b[1] < a[1] ? b : a));
  const eastApp = pods.find((p) => p.name === 'east-app')!;
  const multi = PODS.find((p) => p.net1 !== undefined)!;

  return {
    version: 1,
    driver,
    mode,
    underlay: { cidr: UNDERLAY, prefixLength: UNDERLAY_BITS, device: 'eth0', mtu: LINK_MTU },
    clusters,
    nodes,
    pods,
    topology,
    endpoints,
    keys,
    wgNames,
    leaseDurationSeconds: options.leaseDurationSeconds ?? 2,
    expectations,
    mtu: { largestDfPing: largest, limitedBy, from: 'west-app', to: eastApp.globalIp! },
    twoNic: {
      pod: multi.name,
      eth0Ip: multi.ip,
      net1Ip: multi.net1!,
      underlayPeer: layout.find((n) => n.name === 'east-worker')!.underlayIp,
      node: multi.node,
    },
  };
}

/** What a new active gateway changes: node route diffs, its cable, and the remote gateways' failovers. */
export interface GatewayChange {
  readonly cluster: ClusterName;
  readonly from: string;
  readonly to: string;
  /**
   * route-planner deltas by node: updateTopology's gateway-change (with the new gateway's cable next hops)
   * and, for VXLAN cables, cable-next-hops on each remote gateway (its next hop moves to the new VTEP).
   */
  readonly nodeDiffs: readonly { readonly node: string; readonly diff: PlanDiff }[];
  /** The new gateway's cable toward the remote active gateways, and its NAT. */
  readonly cable: { readonly plan: CablePlan; readonly mssNft: string };
  readonly nat: { readonly plan: GlobalnetNatPlan; readonly nft: string };
  /** Each remote active gateway's cable before and after, and the failover between them. */
  readonly remotes: readonly {
    readonly node: string;
    readonly before: CablePlan;
    readonly after: CablePlan;
    readonly failover: FailoverPlan;
  }[];
}

/** Plans the move of `cluster`'s gateway role to `to` (gateway mode only). Pure. */
export function planGatewayChange(scenario: Scenario, cluster: ClusterName, to: string): GatewayChange {
  if (scenario.mode !== 'gateway')
    throw new ScenarioError(
      'NOT_GATEWAY_MODE',
      `planGatewayChange: the scenario is in ${scenario.mode} mode`,
    );
  const c = scenario.clusters.find((x) => x.name === cluster)!;
  const from = scenario.nodes.find((n) => n.cluster === cluster && n.cable !== null)!;
  const target = scenario.nodes.find((n) => n.name === to && n.cluster === cluster && n.role !== 'worker');
  if (target === undefined)
    throw new ScenarioError(
      'NOT_A_GATEWAY_NODE',
      `planGatewayChange: ${JSON.stringify(to)} is not a gateway-capable node of ${JSON.stringify(cluster)}`,
    );
  const remoteGateways = scenario.nodes.filter((n) => n.cluster !== cluster && n.cable !== null);
  const cable = planGatewayCable(
    scenario,
    to,
    remoteGateways.map((n) => n.name),
  );
  const remotes = remoteGateways.map((r) => {
    const before = r.cable!.plan;
    const others = scenario.nodes
      .filter((n) => n.cluster !== r.cluster && n.cable !== null && n.cluster !== cluster)
      .map((n) => n.name);
    const after = planGatewayCable(scenario, r.name, [...others, to]);
    return { node: r.name, before, after, failover: planFailover(before, after) };
  });
  // The new gateway takes its next hops from its own cable; each remote gateway's move to the new VTEP.
  const hops = cableNextHops(cable);
  let update = updateTopology(createTopologyState(scenario.topology), {
    kind: 'gateway-change',
    cluster: c.name,
    node: to,
    ...(hops !== undefined && { cableNextHops: hops }),
  });
  const deltas = [...update.deltas];
  for (const r of remotes) {
    const moved = cableNextHops(r.after);
    if (moved === undefined) continue;
    update = updateTopology(update.state, { kind: 'cable-next-hops', node: r.node, cableNextHops: moved });
    for (const d of update.deltas) {
      // Each of these changes touches other nodes than the last: the deltas add up without composing.
      if (deltas.some((x) => x.node === d.node))
        throw new Error(`planGatewayChange: two deltas for node ${d.node}`);
      deltas.push(d);
    }
  }
  deltas.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return {
    cluster,
    from: from.name,
    to,
    nodeDiffs: deltas.map((d) => ({ node: d.node, diff: d.diff })),
    cable: { plan: cable, mssNft: renderMssClampNft(cable.mssClamp) },
    nat: from.nat!,
    remotes,
  };
}
