// Pods by key, by namespace and by namespace+label, so a selector finds its pods without a scan.
import type { V1Pod } from '@kubernetes/client-node';
import { keyOf } from './refs';

const labelKey = (ns: string, k: string, v: string) => `${ns}\u0000${k}\u0000${v}`;

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** An index of pods; every operation is O(labels of the pod). */
export class PodIndex {
  private readonly pods = new Map<string, V1Pod>();
  private readonly byNs = new Map<string, Set<string>>();
  private readonly byLabel = new Map<string, Set<string>>();

  get(key: string): V1Pod | undefined {
    return this.pods.get(key);
  }

  get size(): number {
    return this.pods.size;
  }

  keys(): IterableIterator<string> {
    return this.pods.keys();
  }

  values(): IterableIterator<V1Pod> {
    return this.pods.values();
  }

  /** Stores the pod; returns the version it replaces. */
  upsert(pod: V1Pod): V1Pod | undefined {
    const key = keyOf(pod);
    const old = this.pods.get(key);
    if (old !== undefined) this.unindex(key, old);
    this.pods.set(key, pod);
    const ns = pod.metadata?.namespace ?? '';
    addTo(this.byNs, ns, key);
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {}))
      addTo(this.byLabel, labelKey(ns, k, v), key);
    return old;
  }

  delete(key: string): V1Pod | undefined {
    const old = this.pods.get(key);
    if (old === undefined) return undefined;
    this.unindex(key, old);
    this.pods.delete(key);
    return old;
  }

  /** Keys of the pods of `ns` whose labels include every pair of `matchLabels` (a Service selector). */
  select(ns: string, matchLabels: Readonly<Record<string, string>>): string[] {
    const pairs = Object.entries(matchLabels);
    // A Service with an empty selector selects nothing (Kubernetes: it has no selector).
    if (pairs.length === 0) return [];
    let smallest: Set<string> | undefined;
    for (const [k, v] of pairs) {
      const set = this.byLabel.get(labelKey(ns, k, v));
      if (set === undefined) return [];
      if (smallest === undefined || set.size < smallest.size) smallest = set;
    }
    const out: string[] = [];
    for (const key of smallest ?? []) {
      const labels = this.pods.get(key)?.metadata?.labels ?? {};
      if (pairs.every(([k, v]) => labels[k] === v)) out.push(key);
    }
    return out;
  }

  inNamespace(ns: string): ReadonlySet<string> {
    return this.byNs.get(ns) ?? new Set();
  }

  private unindex(key: string, pod: V1Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    removeFrom(this.byNs, ns, key);
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {}))
      removeFrom(this.byLabel, labelKey(ns, k, v), key);
  }
}

/** True when the pod's labels include every pair of the selector (non-empty). */
export function selectsPod(matchLabels: Readonly<Record<string, string>> | undefined, pod: V1Pod): boolean {
  const pairs = Object.entries(matchLabels ?? {});
  if (pairs.length === 0) return false;
  const labels = pod.metadata?.labels ?? {};
  return pairs.every(([k, v]) => labels[k] === v);
}
