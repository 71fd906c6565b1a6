// The pure core's inputs and outputs: Kubernetes objects in, desired writes and problems out.

import type { NodeRouteOptions } from '@isthmus/route-planner';
import type { V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type {
  ClusterGlobalEgressIP,
  ClusterSetMember,
  ClusterSetMemberStatus,
  GlobalEgressIP,
  GlobalEgressIPStatus,
  IPPool,
  IPPoolStatus,
  NodePlan,
  NodePlanSpec,
} from '../resources';

/** The MCS ServiceExport: only its namespace/name matter (it exports the service of the same name). */
export interface ServiceExport {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

/** One watched object, tagged with its kind (what an informer event carries). */
export type KubeObject =
  | { readonly kind: 'Pod'; readonly object: V1Pod }
  | { readonly kind: 'Service'; readonly object: V1Service }
  | { readonly kind: 'ServiceExport'; readonly object: ServiceExport }
  | { readonly kind: 'Namespace'; readonly object: V1Namespace }
  | { readonly kind: 'Node'; readonly object: V1Node }
  | { readonly kind: 'IPPool'; readonly object: IPPool }
  | { readonly kind: 'GlobalEgressIP'; readonly object: GlobalEgressIP }
  | { readonly kind: 'ClusterGlobalEgressIP'; readonly object: ClusterGlobalEgressIP }
  | { readonly kind: 'ClusterSetMember'; readonly object: ClusterSetMember };

export type KubeKind = KubeObject['kind'];

/** An informer event: `upsert` for add and update, `delete` for delete. */
export type ObjectEvent = { readonly op: 'upsert' | 'delete' } & KubeObject;

/** Everything the informers hold after their first list, handed to `recover`. */
export interface ClusterObjects {
  readonly pods?: readonly V1Pod[];
  readonly services?: readonly V1Service[];
  readonly serviceExports?: readonly ServiceExport[];
  readonly namespaces?: readonly V1Namespace[];
  readonly nodes?: readonly V1Node[];
  readonly ipPools?: readonly IPPool[];
  readonly globalEgressIPs?: readonly GlobalEgressIP[];
  readonly clusterGlobalEgressIPs?: readonly ClusterGlobalEgressIP[];
  readonly clusterSetMembers?: readonly ClusterSetMember[];
  /** NodePlans already written: their hashes (unchanged plans are not rewritten) and VTEPs (kept). */
  readonly nodePlans?: readonly NodePlan[];
}

/** What an Event and a status condition are about (the shape of EventRecorder.record's ref). */
export interface ObjectRef {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
}

/** Bad input found by the core: the shell records a Warning Event on `ref` (conditions come as status writes). */
export interface Problem {
  readonly ref: ObjectRef;
  /** CamelCase, stable: InvalidNumberOfIPs, UnknownPool, PoolExhausted, GlobalIPConflict, ... */
  readonly reason: string;
  readonly message: string;
}

/** A merge patch of metadata.annotations on a Pod or Service: a value sets, null removes. */
export interface AnnotationWrite {
  readonly ref: ObjectRef & { readonly kind: 'Pod' | 'Service'; readonly namespace: string };
  readonly annotations: Readonly<Record<string, string | null>>;
  /** The merge patch body itself: `{ metadata: { annotations } }`. */
  readonly patch: { readonly metadata: { readonly annotations: Readonly<Record<string, string | null>> } };
}

/** The whole desired status of a CR (the shell writes it with updateStatus when it differs). */
export type StatusWrite =
  | { readonly ref: ObjectRef & { readonly kind: 'IPPool' }; readonly status: IPPoolStatus }
  | {
      readonly ref: ObjectRef & { readonly kind: 'GlobalEgressIP' | 'ClusterGlobalEgressIP' };
      readonly status: GlobalEgressIPStatus;
    }
  | {
      readonly ref: ObjectRef & { readonly kind: 'ClusterSetMember' };
      readonly status: ClusterSetMemberStatus;
    };

/** A NodePlan to create or replace (named like the node), with a hash of its spec for change detection. */
export interface NodePlanWrite {
  readonly name: string;
  readonly spec: NodePlanSpec;
  /** `specHash(spec)`: equal hashes mean equal specs (canonical JSON). */
  readonly hash: string;
}

/** The desired writes of one step. Each list holds only what differs from the objects the core has seen. */
export interface Writes {
  readonly annotations: readonly AnnotationWrite[];
  readonly statuses: readonly StatusWrite[];
  readonly problems: readonly Problem[];
}

/** The node plans after a flush: those to write (changed since the last flush) and nodes gone. */
export interface NodePlanWrites {
  readonly upserts: readonly NodePlanWrite[];
  readonly deletes: readonly string[];
  readonly problems: readonly Problem[];
}

/** How this cluster sits in the cluster set; everything optional has a documented default. */
export interface ReconcilerConfig {
  /** This cluster's id: the ClusterSetMember whose spec.clusterID equals it is the local cluster. */
  readonly clusterID: string;
  /** Fixed global CIDR; default: the local member's status.globalCIDR (allotted by this core). */
  readonly globalCidr?: string;
  /** Range and block size for allocateClusterCidr; defaults are globalnet's (242.0.0.0/8, 65,536). */
  readonly globalRange?: string;
  readonly clusterCidrSize?: number;
  /** Cable driver on gateway nodes; default 'vxlan'. WireGuard needs every remote gateway's public key. */
  readonly cableDriver?: 'vxlan' | 'wireguard';
  /** Where the agent finds the node's WireGuard private key (never in the plan); default /etc/isthmus/wireguard.key. */
  readonly wireGuardKeyFile?: string;
  /** WireGuard listen port; default 4500 (Submariner's cable port). */
  readonly cablePort?: number;
  /** Underlay link MTU for cable MTU; default 1500. */
  readonly linkMtu?: number;
  /** route-planner options (VTEP CIDR, tables, devices). */
  readonly routeOptions?: NodeRouteOptions;
}

/** A remote member's gateway as published in ClusterSetMember spec.gateways (needs H2a's resources.ts field). */
export interface MemberGateway {
  readonly node: string;
  readonly privateIp: string;
  readonly privateSubnet?: string;
  readonly publicIp?: string;
  readonly port?: number;
  /** WireGuard public key (public material only). */
  readonly publicKey?: string;
}

/** The stateful pure core. Call `recover` once with everything listed, then `apply` per informer event. */
export interface Reconciler {
  /** Rebuild every allocator from annotations and CR status, resolve conflicts, return the repairs. */
  recover(objects: ClusterObjects, now: string): Writes;
  /** Take one informer event into the indexes and allocators; O(1)/O(log n) plus the objects it touches. */
  apply(event: ObjectEvent, now: string): Writes;
  /** Recompute the NodePlans of nodes whose inputs changed since the last flush (call it debounced). */
  flushNodePlans(): NodePlanWrites;
  /** The global IP held by `svc/<ns>/<name>` or `pod/<ns>/<name>` (for metrics and tests). */
  globalIpOf(kind: 'service' | 'pod', namespace: string, name: string): string | undefined;
  /** Counts for metrics: global IPs, pool IPs, egress blocks held. */
  stats(): ReconcilerStats;
  /** True once recover() ran: nothing is handed out before. */
  readonly recovered: boolean;
}

export interface ReconcilerStats {
  readonly globalIps: number;
  readonly egressScopes: number;
  readonly poolAllocations: number;
  readonly pendingEgress: number;
  /** Owners the allocators themselves hold (Globalnet and every pool): equals the sum above unless state leaked. */
  readonly allocatorOwners: number;
}
