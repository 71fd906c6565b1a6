import type { GlobalnetNatPlan } from '@isthmus/globalnet-ipam';
import type { PoolSpec } from '@isthmus/ipam';
import type { Plan } from '@isthmus/route-planner';

/**
 * The custom resources of isthmus.io/v1alpha1, as TypeScript types. The CRD schemas in `crds.ts` are
 * the API server's view of these same shapes; a test keeps the two in step.
 */
export const GROUP = 'isthmus.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The global IP of an exported ClusterIP service, or of a pod behind an exported headless service. */
export const GLOBAL_IP_ANNOTATION = 'isthmus.io/global-ip';
/** On a pod: the IPPool (by name) that the pod asks an address from. */
export const POOL_ANNOTATION = 'isthmus.io/ippool';
/** On a pod: the address the controller allocated from the pool named by POOL_ANNOTATION. */
export const POOL_IP_ANNOTATION = 'isthmus.io/ippool-ip';

/** The Multi-Cluster Services API marker for exported services (installed as a CRD in tests). */
export const MCS_GROUP = 'multicluster.x-k8s.io';
export const MCS_VERSION = 'v1alpha1';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
}

/** A status condition with the meaning of metav1.Condition. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

interface Resource<K extends string, S, T> {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
  readonly status?: T;
}

/** Cluster-scoped; the pool's name is metadata.name. */
export type IPPoolSpec = Omit<PoolSpec, 'name'>;
export interface IPPoolStatus {
  /** Decimal strings: an IPv6 pool's size does not fit a JSON number. */
  readonly total?: string;
  readonly allocated?: string;
  readonly free?: string;
  readonly conditions?: readonly Condition[];
}
export type IPPool = Resource<'IPPool', IPPoolSpec, IPPoolStatus>;

/** Namespaced, like Submariner's GlobalEgressIP: the namespace's pods, or those the selector picks. */
export interface GlobalEgressIPSpec {
  /** 1 to 20 (globalnet's MAX_EGRESS_SIZE); default 1. */
  readonly numberOfIPs?: number;
  readonly podSelector?: LabelSelector;
}
export interface GlobalEgressIPStatus {
  readonly allocatedIPs?: readonly string[];
  readonly conditions?: readonly Condition[];
}
export type GlobalEgressIP = Resource<'GlobalEgressIP', GlobalEgressIPSpec, GlobalEgressIPStatus>;

/** Cluster-scoped: the egress block for every pod no narrower scope covers. */
export interface ClusterGlobalEgressIPSpec {
  readonly numberOfIPs?: number;
}
export type ClusterGlobalEgressIP = Resource<
  'ClusterGlobalEgressIP',
  ClusterGlobalEgressIPSpec,
  GlobalEgressIPStatus
>;

/** Cluster-scoped: one member of the cluster set (this cluster or a remote one). */
export interface ClusterSetMemberSpec {
  readonly clusterID: string;
  readonly podCIDRs: readonly string[];
  readonly serviceCIDRs: readonly string[];
  /** How this cluster's nodes reach each other's pods. */
  readonly mode?: 'gateway' | 'p2p';
  /** A global CIDR the member asks for; the controller allots one when omitted. */
  readonly globalCIDR?: string;
  /** The member's gateway nodes, as published for the other clusters (public material only). */
  readonly gateways?: readonly ClusterSetGateway[];
}
/** A gateway node of a member cluster: where the other clusters' gateways reach it. */
export interface ClusterSetGateway {
  readonly node: string;
  readonly privateIp: string;
  readonly privateSubnet?: string;
  readonly publicIp?: string;
  readonly port?: number;
  /** WireGuard public key (never a private key). */
  readonly publicKey?: string;
}
export interface ClusterSetMemberStatus {
  /** The global CIDR allotted to the member. */
  readonly globalCIDR?: string;
  readonly conditions?: readonly Condition[];
}
export type ClusterSetMember = Resource<'ClusterSetMember', ClusterSetMemberSpec, ClusterSetMemberStatus>;

/**
 * The cable part of a node plan. Only public material: a WireGuard private key or an IPsec PSK never
 * enters the API server through a NodePlan; the agent reads it from a file on the node (mode 0600).
 */
export interface NodeCableSpec {
  readonly driver: 'wireguard' | 'vxlan' | 'libreswan';
  /** The interface the agent manages for this cable. */
  readonly interface: string;
  readonly mtu: number;
  /** WireGuard: the local listen port and each peer's public key, endpoint and allowed IPs. */
  readonly listenPort?: number;
  readonly peers?: readonly {
    readonly publicKey: string;
    readonly endpoint: string;
    readonly allowedIPs: readonly string[];
    readonly persistentKeepalive?: number;
  }[];
  /** Path on the node of the file holding this node's secret (WireGuard private key, PSK). */
  readonly secretFile?: string;
}

/** Cluster-scoped; one per node, named like the node. */
export interface NodePlanSpec {
  readonly node: string;
  /** The route-planner plan for the node's host namespace (devices, addresses, routes, rules, neighbours, FDB). */
  readonly routes: Plan;
  /** On gateways: the globalnet NAT plan, loaded as nft table `isthmus-globalnet`. */
  readonly nat?: GlobalnetNatPlan;
  /** On gateways: the tunnel to the other clusters' gateways. */
  readonly cable?: NodeCableSpec;
}
export interface NodePlanStatus {
  /** metadata.generation of the spec the agent last applied in full. */
  readonly appliedGeneration?: number;
  /** The last apply error, cleared by a successful apply. */
  readonly error?: string;
  readonly conditions?: readonly Condition[];
}
export type NodePlan = Resource<'NodePlan', NodePlanSpec, NodePlanStatus>;
