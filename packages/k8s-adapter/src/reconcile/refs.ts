// Object keys, references and the annotation names this core adds beside resources.ts.
import { API_VERSION, MCS_GROUP, MCS_VERSION } from '../resources';
import type { KubeKind, ObjectRef } from './types';

/** On a pod: why its IPPool request could not be served (unknown pool, exhausted); removed once served. */
export const POOL_ERROR_ANNOTATION = 'isthmus.io/ippool-error';
/** On a service or pod: why it has no global IP although exported (no global CIDR yet, exhausted). */
export const GLOBAL_IP_ERROR_ANNOTATION = 'isthmus.io/global-ip-error';
/** Nodes labelled `isthmus.io/gateway=true` are their cluster's gateway candidates. */
export const GATEWAY_NODE_LABEL = 'isthmus.io/gateway';

const API_VERSIONS: Readonly<Record<KubeKind, string>> = {
  Pod: 'v1',
  Service: 'v1',
  Namespace: 'v1',
  Node: 'v1',
  ServiceExport: `${MCS_GROUP}/${MCS_VERSION}`,
  IPPool: API_VERSION,
  GlobalEgressIP: API_VERSION,
  ClusterGlobalEgressIP: API_VERSION,
  ClusterSetMember: API_VERSION,
};

interface MetaLike {
  readonly metadata?:
    | { readonly name?: string; readonly namespace?: string; readonly uid?: string }
    | undefined;
}

/** The Event/condition reference of an object of a kind. */
export function objectRef<K extends KubeKind>(kind: K, obj: MetaLike): ObjectRef & { readonly kind: K } {
  const m = obj.metadata ?? {};
  return {
    kind,
    apiVersion: API_VERSIONS[kind],
    name: m.name ?? '',
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
  };
}

/** `ns/name` for namespaced objects, `name` for cluster-scoped ones (the informer's key). */
export function keyOf(obj: MetaLike): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}

/** Splits an `ns/name` key. */
export function splitKey(key: string): [namespace: string, name: string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Total order for "who keeps a contested address": oldest creationTimestamp, then uid, then key. */
export function seniority(
  a: { readonly created: string; readonly uid: string; readonly key: string },
  b: { readonly created: string; readonly uid: string; readonly key: string },
): number {
  const ta = Date.parse(a.created);
  const tb = Date.parse(b.created);
  const na = Number.isNaN(ta) ? Number.POSITIVE_INFINITY : ta;
  const nb = Number.isNaN(tb) ? Number.POSITIVE_INFINITY : tb;
  if (na !== nb) return na < nb ? -1 : 1;
  if (a.uid !== b.uid) return a.uid < b.uid ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** creationTimestamp as the client may hand it (Date in client-node's typed objects, string in JSON). */
export function createdOf(obj: {
  readonly metadata?: { readonly creationTimestamp?: unknown } | undefined;
}): string {
  const t = obj.metadata?.creationTimestamp;
  if (t instanceof Date) return t.toISOString();
  return typeof t === 'string' ? t : '';
}
