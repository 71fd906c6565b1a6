// The objects the core has seen, indexed for the lookups the rules need.
import type { V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ClusterGlobalEgressIP, ClusterSetMember, GlobalEgressIP, IPPool } from '../resources';
import { PodIndex } from './pod-index';

export class Store {
  readonly pods = new PodIndex();
  readonly services = new Map<string, V1Service>();
  /** `ns/name` of every ServiceExport (it exports the service of the same name). */
  readonly exports = new Set<string>();
  readonly namespaces = new Map<string, V1Namespace>();
  readonly nodes = new Map<string, V1Node>();
  readonly pools = new Map<string, IPPool>();
  /** Keyed `GlobalEgressIP/<ns>/<name>` and `ClusterGlobalEgressIP/<name>`. */
  readonly egress = new Map<string, GlobalEgressIP | ClusterGlobalEgressIP>();
  readonly members = new Map<string, ClusterSetMember>();
}

/** A service that gets one global IP itself when exported: ClusterIP type with a cluster IP. */
export function isClusterIpService(svc: V1Service): boolean {
  const type = svc.spec?.type ?? 'ClusterIP';
  return type === 'ClusterIP' && svc.spec?.clusterIP !== 'None';
}

/** A headless service with a selector: its pods get global IPs when it is exported. */
export function isHeadlessWithSelector(svc: V1Service): boolean {
  return svc.spec?.clusterIP === 'None' && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** The pod's IPs from status.podIPs (or status.podIP). */
export function podIps(pod: V1Pod): string[] {
  const list = (pod.status?.podIPs ?? [])
    .map((p) => p.ip)
    .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
  if (list.length > 0) return list;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}
