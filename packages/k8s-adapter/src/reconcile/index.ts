// The pure reconcile core of the controller: Kubernetes objects in, desired writes out.
// Rules (details beside each file):
// - global IPs: exported (ServiceExport ns/name) ClusterIP services, and pods picked by the selector of an
//   exported headless service (by labels, not Endpoints); owner keys are globalnet's svc/<ns>/<name>, pod/<ns>/<name>.
// - pool IPs: owner key = pod UID (never reused, so a recreated pod cannot inherit or free its predecessor's address).
// - recovery conflicts: the oldest creationTimestamp keeps the address, then the lower uid, then kind/ns/name;
//   the loser is re-served with a new address and gets a Warning. Live, the current holder always keeps it.
// - writes are level-based: each list holds only what differs from the objects last seen, so re-delivery is harmless.

export { ReconcileError, type ReconcileErrorCode } from './errors';
export { specHash } from './hash';
export { createReconciler } from './reconciler';
export {
  GATEWAY_NODE_LABEL,
  GLOBAL_IP_ERROR_ANNOTATION,
  objectRef,
  POOL_ERROR_ANNOTATION,
} from './refs';
export type {
  AnnotationWrite,
  ClusterObjects,
  KubeKind,
  KubeObject,
  MemberGateway,
  NodePlanWrite,
  NodePlanWrites,
  ObjectEvent,
  ObjectRef,
  Problem,
  Reconciler,
  ReconcilerConfig,
  ReconcilerStats,
  ServiceExport,
  StatusWrite,
  Writes,
} from './types';
