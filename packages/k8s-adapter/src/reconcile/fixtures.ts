// Test fixtures: object builders and a fake API server that applies the core's writes (tests only).
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  API_VERSION,
  type ClusterGlobalEgressIP,
  type ClusterSetMember,
  type GlobalEgressIP,
  type IPPool,
} from '../resources';
import { refKey } from './outbox';
import type { ClusterObjects, KubeObject, ObjectEvent, Reconciler, ServiceExport, Writes } from './types';

let seq = 0;
/** A creation timestamp `n` seconds after a fixed epoch, so seniority is explicit in tests. */
export const at = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
export const NOW = '2026-06-01T00:00:00.000Z';

export function pod(
  ns: string,
  name: string,
  opts: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ip?: string;
    created?: number;
    uid?: string;
  } = {},
): V1Pod {
  seq++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: opts.uid ?? `uid-${ns}-${name}`,
      creationTimestamp: at(opts.created ?? seq) as unknown as Date,
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'x' }] },
    status: opts.ip ? { phase: 'Running', podIP: opts.ip, podIPs: [{ ip: opts.ip }] } : { phase: 'Pending' },
  };
}

export function service(
  ns: string,
  name: string,
  opts: {
    headless?: boolean;
    selector?: Record<string, string>;
    clusterIP?: string;
    type?: string;
    annotations?: Record<string, string>;
    created?: number;
  } = {},
): V1Service {
  seq++;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ns,
      uid: `uid-svc-${ns}-${name}`,
      creationTimestamp: at(opts.created ?? seq) as unknown as Date,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      type: opts.type ?? 'ClusterIP',
      clusterIP: opts.headless ? 'None' : (opts.clusterIP ?? '10.96.0.10'),
      ...(opts.selector ? { selector: opts.selector } : {}),
    },
  };
}

export function serviceExport(ns: string, name: string): ServiceExport {
  return {
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ServiceExport',
    metadata: { name, namespace: ns },
  };
}

export function member(
  name: string,
  clusterID: string,
  opts: {
    globalCIDR?: string;
    statusCIDR?: string;
    created?: number;
    pods?: string[];
    services?: string[];
    gateways?: unknown[];
    mode?: 'gateway' | 'p2p';
  } = {},
): ClusterSetMember {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterSetMember',
    metadata: { name, uid: `uid-m-${name}`, creationTimestamp: at(opts.created ?? 0) },
    spec: {
      clusterID,
      podCIDRs: opts.pods ?? ['10.244.0.0/16'],
      serviceCIDRs: opts.services ?? ['10.96.0.0/12'],
      ...(opts.mode ? { mode: opts.mode } : {}),
      ...(opts.globalCIDR ? { globalCIDR: opts.globalCIDR } : {}),
      ...(opts.gateways ? ({ gateways: opts.gateways } as object) : {}),
    },
    ...(opts.statusCIDR ? { status: { globalCIDR: opts.statusCIDR } } : {}),
  };
}

export function egressIP(
  ns: string,
  name: string,
  spec: GlobalEgressIP['spec'] = {},
  created = 0,
): GlobalEgressIP {
  return {
    apiVersion: API_VERSION,
    kind: 'GlobalEgressIP',
    metadata: { name, namespace: ns, uid: `uid-e-${ns}-${name}`, creationTimestamp: at(created) },
    spec,
  };
}

export function clusterEgressIP(
  name: string,
  spec: ClusterGlobalEgressIP['spec'] = {},
  created = 0,
): ClusterGlobalEgressIP {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterGlobalEgressIP',
    metadata: { name, uid: `uid-ce-${name}`, creationTimestamp: at(created) },
    spec,
  };
}

export function ipPool(name: string, spec: IPPool['spec']): IPPool {
  return {
    apiVersion: API_VERSION,
    kind: 'IPPool',
    metadata: { name, uid: `uid-p-${name}`, creationTimestamp: at(0) },
    spec,
  };
}

export function node(name: string, ip: string, podCIDR: string, gateway = false): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `uid-n-${name}`,
      ...(gateway ? { labels: { 'isthmus.io/gateway': 'true' } } : {}),
    },
    spec: { podCIDRs: [podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

type Stored = KubeObject;

/** A fake API server: objects by kind/ns/name; applies annotation patches and status writes. */
export class FakeApi {
  readonly objects = new Map<string, Stored>();

  key(o: KubeObject): string {
    const m = o.object.metadata ?? {};
    return `${o.kind}/${m.namespace ?? ''}/${m.name ?? ''}`;
  }

  put(o: KubeObject): ObjectEvent {
    this.objects.set(this.key(o), o);
    return { op: 'upsert', ...o } as ObjectEvent;
  }

  remove(o: KubeObject): ObjectEvent | undefined {
    const k = this.key(o);
    const cur = this.objects.get(k);
    if (cur === undefined) return undefined;
    this.objects.delete(k);
    return { op: 'delete', ...cur } as ObjectEvent;
  }

  get(kind: KubeObject['kind'], ns: string, name: string): KubeObject | undefined {
    return this.objects.get(`${kind}/${ns}/${name}`);
  }

  /** Applies writes like the API server would; returns the update events the informers would deliver. */
  write(w: Writes): ObjectEvent[] {
    const events: ObjectEvent[] = [];
    for (const a of w.annotations) {
      const cur = this.objects.get(refKey(a.ref));
      if (cur === undefined) continue;
      const meta = cur.object.metadata as { annotations?: Record<string, string> } | undefined;
      const annotations: Record<string, string> = { ...(meta?.annotations ?? {}) };
      for (const [k, v] of Object.entries(a.annotations)) {
        if (v === null) delete annotations[k];
        else annotations[k] = v;
      }
      const next = {
        kind: cur.kind,
        object: { ...cur.object, metadata: { ...cur.object.metadata, annotations } },
      } as KubeObject;
      events.push(this.put(next));
    }
    for (const s of w.statuses) {
      const cur = this.objects.get(refKey(s.ref));
      if (cur === undefined) continue;
      const next = { kind: cur.kind, object: { ...cur.object, status: s.status } } as KubeObject;
      events.push(this.put(next));
    }
    return events;
  }

  /** Everything, as the informers' first lists hand it to recover(). */
  list(): ClusterObjects {
    const by = (k: KubeObject['kind']) =>
      [...this.objects.values()].filter((o) => o.kind === k).map((o) => o.object);
    return {
      pods: by('Pod') as V1Pod[],
      services: by('Service') as V1Service[],
      serviceExports: by('ServiceExport') as ServiceExport[],
      nodes: by('Node') as V1Node[],
      ipPools: by('IPPool') as IPPool[],
      globalEgressIPs: by('GlobalEgressIP') as GlobalEgressIP[],
      clusterGlobalEgressIPs: by('ClusterGlobalEgressIP') as ClusterGlobalEgressIP[],
      clusterSetMembers: by('ClusterSetMember') as ClusterSetMember[],
    };
  }

  /** Feeds an event to the core and applies its writes until nothing more changes (like a live controller). */
  settle(core: Reconciler, first: Writes, now = NOW): Writes[] {
    const all: Writes[] = [first];
    let queue = this.write(first);
    for (let round = 0; round < 50 && queue.length > 0; round++) {
      const next: ObjectEvent[] = [];
      for (const ev of queue) {
        const w = core.apply(ev, now);
        all.push(w);
        next.push(...this.write(w));
      }
      queue = next;
    }
    if (queue.length > 0) throw new Error('writes did not settle');
    return all;
  }

  /** Applies an event to the store and to the core, then settles. */
  send(core: Reconciler, ev: ObjectEvent | undefined, now = NOW): Writes[] {
    if (ev === undefined) return [];
    return this.settle(core, core.apply(ev, now), now);
  }
}
