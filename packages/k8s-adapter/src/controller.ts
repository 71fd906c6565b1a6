import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './kube/errors';
import { createEventRecorder, type EventRecorder } from './kube/events';
import { request } from './kube/http';
import { backoffMs, createInformer, type Informer, objectKey } from './kube/informer';
import {
  createKeyedQueue,
  createObject,
  deleteObject,
  type KeyedQueue,
  mergePatch,
  replaceObject,
  updateStatus,
} from './kube/write';
import { createLeaderElector, type LeaderElector } from './leader';
import { type Logger, silentLogger } from './log';
import { createMetrics, type HealthServer, type Metrics, startHealthServer } from './metrics';
import {
  type AnnotationWrite,
  createReconciler,
  type KubeKind,
  type NodePlanWrites,
  type ObjectEvent,
  type Problem,
  type Reconciler,
  type ReconcilerConfig,
  type StatusWrite,
  type Writes,
} from './reconcile';
import { canonicalJson } from './reconcile/hash';
import {
  API_VERSION,
  GLOBAL_IP_ANNOTATION,
  GROUP,
  MCS_GROUP,
  MCS_VERSION,
  type NodePlan,
  POOL_IP_ANNOTATION,
  VERSION,
} from './resources';

/** Annotation on a NodePlan: the hash of the spec written, so an unchanged plan is not written again. */
export const SPEC_HASH_ANNOTATION = 'isthmus.io/spec-hash';
/** The Lease the controller replicas elect on, in the controller's namespace. */
export const LEASE_NAME = 'isthmus-controller';
export const CONTROLLER_NAMESPACE = 'isthmus-system';

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  /** The pure core's configuration (this cluster's id, global range, cable driver, ...). */
  readonly config: ReconcilerConfig;
  /** This replica's identity in the Lease; default `<hostname>-<pid>` (set it to the pod name). */
  readonly identity?: string;
  /** Lease namespace and name; default isthmus-system / isthmus-controller. */
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  /** Default 15 s; see createLeaderElector for the renew deadline and retry period. */
  readonly leaseDurationSeconds?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Port of /metrics /healthz /readyz (0: any free port); omitted: no server. */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  /** Watch stall timeout of every informer; default 5 minutes. */
  readonly stallTimeoutMs?: number;
  /** /healthz fails once an informer has had no working list or watch for this long; default 2 minutes. */
  readonly unhealthyAfterMs?: number;
  /** NodePlans are recomputed at most this often while changes arrive; default 200 ms. */
  readonly nodePlanDebounceMs?: number;
  /** API writes in flight at once (one object's writes stay ordered); default 16. */
  readonly writeConcurrency?: number;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export interface Controller {
  readonly identity: string;
  readonly isLeader: boolean;
  /** Informers synced, and, when leading, allocator state recovered (what /readyz reports). */
  readonly ready: boolean;
  /** Not stopped, and no informer failing to list or watch for longer than unhealthyAfterMs (/healthz). */
  readonly healthy: boolean;
  /** True once this replica, as leader, rebuilt its state and may hand out addresses. */
  readonly recovered: boolean;
  readonly metrics: Metrics;
  /** The port of the metrics server, when one runs. */
  readonly metricsPort: number | undefined;
  /** Whether discovery.k8s.io/v1 EndpointSlices are watched (false on servers that lack the API). */
  readonly endpointSlices: boolean;
  /** The pure core of the current leadership term (undefined while standby). */
  readonly reconciler: Reconciler | undefined;
  /** Resolves when no event is queued and no write is in flight (for tests and benchmarks). */
  idle(): Promise<void>;
  /** Stops reconciling, releases the Lease, stops the informers and the metrics server. */
  stop(): Promise<void>;
}

/** Where each watched kind lives (collection path) and how an object of it is addressed. */
interface KindInfo {
  readonly collection: string;
  readonly namespaced: boolean;
  readonly plural: string;
  readonly prefix: string;
}
const CORE = '/api/v1';
const CRD = `/apis/${GROUP}/${VERSION}`;
const KINDS: Readonly<Record<KubeKind, KindInfo>> = {
  Pod: { collection: `${CORE}/pods`, namespaced: true, plural: 'pods', prefix: CORE },
  Service: { collection: `${CORE}/services`, namespaced: true, plural: 'services', prefix: CORE },
  Namespace: { collection: `${CORE}/namespaces`, namespaced: false, plural: 'namespaces', prefix: CORE },
  Node: { collection: `${CORE}/nodes`, namespaced: false, plural: 'nodes', prefix: CORE },
  ServiceExport: {
    collection: `/apis/${MCS_GROUP}/${MCS_VERSION}/serviceexports`,
    namespaced: true,
    plural: 'serviceexports',
    prefix: `/apis/${MCS_GROUP}/${MCS_VERSION}`,
  },
  IPPool: { collection: `${CRD}/ippools`, namespaced: false, plural: 'ippools', prefix: CRD },
  GlobalEgressIP: {
    collection: `${CRD}/globalegressips`,
    namespaced: true,
    plural: 'globalegressips',
    prefix: CRD,
  },
  ClusterGlobalEgressIP: {
    collection: `${CRD}/clusterglobalegressips`,
    namespaced: false,
    plural: 'clusterglobalegressips',
    prefix: CRD,
  },
  ClusterSetMember: {
    collection: `${CRD}/clustersetmembers`,
    namespaced: false,
    plural: 'clustersetmembers',
    prefix: CRD,
  },
};
const NODEPLANS = `${CRD}/nodeplans`;

/** The API path of one object of a watched kind. */
export function objectPath(kind: KubeKind, name: string, namespace?: string): string {
  const k = KINDS[kind];
  return k.namespaced
    ? `${k.prefix}/namespaces/${namespace ?? ''}/${k.plural}/${name}`
    : `${k.prefix}/${k.plural}/${name}`;
}

type Obj = {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
};

/** True when the server serves discovery.k8s.io/v1 (Kubernetes 1.21 and later). */
export async function servesEndpointSlicesV1(kc: KubeConfig): Promise<boolean> {
  try {
    const r = await request<{ resources?: { name: string }[] }>(kc, '/apis/discovery.k8s.io/v1');
    return (r.resources ?? []).some((x) => x.name === 'endpointslices');
  } catch (e) {
    if (KubeError.isInstance(e) && e.code === 'NOT_FOUND') return false;
    throw e;
  }
}

/** Runs `fns` with at most `limit` in flight. */
async function pool(limit: number, fns: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < fns.length) {
      const fn = fns[next++];
      if (fn) await fn();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, worker));
}

/**
 * The controller's composition root: informers on everything the core reads, a Lease elector, and on
 * becoming leader a fresh pure core rebuilt from the API server (recover) before anything is handed
 * out; then informer events in, the core's writes out (merge patches, status updates, NodePlans only
 * when their hash changed), Problems as Warning Events.
 */
export async function startController(opts: ControllerOptions): Promise<Controller> {
  const kc = opts.kubeConfig;
  const identity = opts.identity ?? `${hostname()}-${process.pid}`;
  const log = (opts.logger ?? silentLogger).child({ component: 'controller', identity });
  const now = opts.now ?? (() => new Date());
  const metrics = createMetrics();
  const events: EventRecorder = createEventRecorder(kc, 'isthmus-controller', log);
  const concurrency = opts.writeConcurrency ?? 16;
  const debounceMs = opts.nodePlanDebounceMs ?? 200;

  const informerFor = <T extends Obj>(path: string, resource: string): Informer<T> =>
    createInformer<T>({
      kubeConfig: kc,
      path,
      logger: log,
      ...(opts.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: opts.stallTimeoutMs }),
      onRestart: () => metrics.watchRestarts.inc({ resource }),
    });

  const kindInformers = new Map<KubeKind, Informer<Obj>>();
  for (const [kind, info] of Object.entries(KINDS) as [KubeKind, KindInfo][]) {
    kindInformers.set(kind, informerFor<Obj>(info.collection, info.plural));
  }
  const nodePlans = informerFor<NodePlan>(NODEPLANS, 'nodeplans');
  // Endpoints (and EndpointSlices where served, 1.21+) are watched and cached as the issue asks; the pure
  // core takes no Endpoints input yet (selector-less services would need it), so nothing reads them.
  const endpointSlices = await servesEndpointSlicesV1(kc).catch(() => false);
  const extra: Informer<Obj>[] = [informerFor<Obj>(`${CORE}/endpoints`, 'endpoints')];
  if (endpointSlices)
    extra.push(informerFor<Obj>('/apis/discovery.k8s.io/v1/endpointslices', 'endpointslices'));
  const all: Informer<Obj>[] = [...kindInformers.values(), nodePlans as Informer<Obj>, ...extra];

  // State of the current leadership term.
  let term = 0;
  let core: Reconciler | undefined;
  let queue: ObjectEvent[] = [];
  let queuedAt = 0;
  let scheduled = false;
  let stopping = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let planDirty = false;
  let idleWaiters: (() => void)[] = [];
  const retryAttempts = new Map<string, number>();
  // kind/key -> resourceVersion of the object last fed to the core (annotation patches are made at it).
  const fed = new Map<string, string>();

  for (const [kind, inf] of kindInformers) {
    const push = (op: 'upsert' | 'delete') => (obj: Obj) => {
      if (!core) return;
      queue.push({ op, kind, object: obj } as ObjectEvent);
      if (queue.length === 1) queuedAt = performance.now();
      kick();
    };
    inf.on('add', push('upsert'));
    inf.on('update', push('upsert'));
    inf.on('delete', push('delete'));
  }

  /** One batch of events: its writes left, and when its first event was queued (reconcile latency). */
  interface Tracker {
    readonly t0: number;
    left: number;
  }
  type WriteItem = { readonly term: number; readonly trackers: Tracker[] } & (
    | { readonly type: 'annotation'; readonly a: AnnotationWrite }
    | { readonly type: 'status'; readonly s: StatusWrite }
    | { readonly type: 'event'; readonly p: Problem }
  );

  // The write pipeline: events keep being applied while earlier writes are in flight; one object's
  // writes stay in order, and the writes still waiting for one object merge into one.
  const writes: KeyedQueue<WriteItem> = createKeyedQueue<WriteItem>({
    concurrency,
    run: (_key, item) => runWrite(item),
    merge: (waiting, next) => {
      const trackers = [...waiting.trackers, ...next.trackers];
      if (waiting.type === 'annotation' && next.type === 'annotation') {
        const annotations = { ...waiting.a.annotations, ...next.a.annotations };
        return {
          ...next,
          trackers,
          a: { ref: next.a.ref, annotations, patch: { metadata: { annotations } } },
        };
      }
      return { ...next, trackers };
    },
    onIdle: () => notifyIdle(),
  });

  function isIdle(): boolean {
    return !scheduled && queue.length === 0 && !planDirty && writes.size === 0;
  }
  function notifyIdle() {
    if (!isIdle()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const fn of w) fn();
  }

  // Events that arrive in the same turn of the event loop (one watch chunk) are applied as one batch.
  function kick() {
    if (scheduled || !core) return;
    scheduled = true;
    setImmediate(drain);
  }

  function drain(): void {
    scheduled = false;
    const c = core;
    if (!c || queue.length === 0) {
      notifyIdle();
      return;
    }
    const batch = queue;
    const t0 = queuedAt;
    queue = [];
    const stamp = now().toISOString();
    const collected: Writes[] = [];
    for (const ev of batch) {
      const meta = (ev.object as Obj).metadata;
      const fedKey = `${ev.kind}/${objectKey(ev.object as Obj)}`;
      if (ev.op === 'delete') fed.delete(fedKey);
      else if (meta?.resourceVersion) fed.set(fedKey, meta.resourceVersion);
      try {
        collected.push(c.apply(ev, stamp));
      } catch (e) {
        metrics.errors.inc({ reason: 'ReconcileFailed' });
        log.error('reconcile step threw', { kind: ev.kind, key: objectKey(ev.object as Obj), error: e });
      }
    }
    submit(collected, term, t0);
    publishStats();
    scheduleFlush();
    notifyIdle();
  }

  /** Hands a batch's writes to the pipeline; the batch's latency is observed when the last one is done. */
  function submit(list: Writes[], myTerm: number, t0: number): void {
    const tracker: Tracker = { t0, left: 0 };
    const items: [string, WriteItem][] = [];
    for (const w of list) {
      for (const a of w.annotations)
        items.push([
          `${a.ref.kind}/${a.ref.namespace}/${a.ref.name}`,
          { type: 'annotation', a, term: myTerm, trackers: [tracker] },
        ]);
      for (const s of w.statuses)
        items.push([
          `${s.ref.kind}/${s.ref.namespace ?? ''}/${s.ref.name}`,
          { type: 'status', s, term: myTerm, trackers: [tracker] },
        ]);
      for (const p of w.problems) {
        metrics.errors.inc({ reason: p.reason });
        log.warn('problem', {
          reason: p.reason,
          message: p.message,
          object: `${p.ref.kind}/${p.ref.namespace ?? ''}/${p.ref.name}`,
        });
        items.push([
          `event/${p.ref.kind}/${p.ref.namespace ?? ''}/${p.ref.name}/${p.reason}/${p.message}`,
          { type: 'event', p, term: myTerm, trackers: [tracker] },
        ]);
      }
    }
    tracker.left = items.length;
    if (items.length === 0) metrics.reconcileDuration.observe((performance.now() - t0) / 1000);
    for (const [key, item] of items) writes.push(key, item);
  }

  async function runWrite(item: WriteItem): Promise<void> {
    try {
      if (item.term !== term) return;
      if (item.type === 'annotation') await writeAnnotations(item.a, item.term);
      else if (item.type === 'status') await writeStatus(item.s, item.term);
      else await events.record(item.p.ref, 'Warning', item.p.reason, item.p.message);
    } finally {
      for (const t of item.trackers) {
        if (--t.left === 0) metrics.reconcileDuration.observe((performance.now() - t.t0) / 1000);
      }
    }
  }

  /** A write that failed for a reason other than the object being gone: feed the object again later. */
  function retryLater(kind: KubeKind, key: string, myTerm: number) {
    const n = retryAttempts.get(`${kind}/${key}`) ?? 0;
    retryAttempts.set(`${kind}/${key}`, n + 1);
    const t = setTimeout(
      () => {
        if (term !== myTerm || !core) return;
        const obj = kindInformers.get(kind)?.get(key);
        if (!obj) return;
        queue.push({ op: 'upsert', kind, object: obj } as ObjectEvent);
        if (queue.length === 1) queuedAt = performance.now();
        kick();
      },
      backoffMs(n, Math.random),
    );
    t.unref();
  }

  async function writeAnnotations(a: AnnotationWrite, myTerm: number): Promise<void> {
    const kind = a.ref.kind;
    const key = `${a.ref.namespace}/${a.ref.name}`;
    // The version the core decided on; a newer one in the cache may hold someone else's change.
    const rv = fed.get(`${kind}/${key}`) ?? kindInformers.get(kind)?.get(key)?.metadata?.resourceVersion;
    // Retry at a newer version only when nobody else put a different value on the keys we set.
    const retryIf = (current: unknown) => {
      const anns = (current as Obj).metadata?.annotations ?? {};
      return Object.entries(a.annotations).every(
        ([k, v]) => v === null || anns[k] === undefined || anns[k] === v,
      );
    };
    try {
      await mergePatch(kc, objectPath(kind, a.ref.name, a.ref.namespace), a.patch, {
        ...(rv === undefined ? {} : { resourceVersion: rv }),
        retryIf,
      });
      retryAttempts.delete(`${kind}/${key}`);
      if (typeof a.annotations[GLOBAL_IP_ANNOTATION] === 'string')
        metrics.allocations.inc({ kind: kind === 'Pod' ? 'pod' : 'service' });
      if (typeof a.annotations[POOL_IP_ANNOTATION] === 'string') metrics.allocations.inc({ kind: 'pool' });
    } catch (e) {
      writeFailed(e, kind, key, myTerm);
    }
  }

  async function writeStatus(s: StatusWrite, myTerm: number): Promise<void> {
    const path = objectPath(s.ref.kind, s.ref.name, s.ref.namespace);
    const key = s.ref.namespace ? `${s.ref.namespace}/${s.ref.name}` : s.ref.name;
    try {
      let changedIps = false;
      await updateStatus<{ status?: Record<string, unknown> }>(kc, path, (current) => {
        if (canonicalJson(current.status ?? {}) === canonicalJson(s.status)) return undefined;
        const before = (current.status as { allocatedIPs?: unknown } | undefined)?.allocatedIPs;
        const after = (s.status as { allocatedIPs?: unknown }).allocatedIPs;
        changedIps = after !== undefined && canonicalJson(before) !== canonicalJson(after);
        return { ...current, status: s.status as Record<string, unknown> };
      });
      retryAttempts.delete(`${s.ref.kind}/${key}`);
      if (changedIps) metrics.allocations.inc({ kind: 'egress' });
    } catch (e) {
      writeFailed(e, s.ref.kind, key, myTerm);
    }
  }

  function publishStats() {
    const st = core?.stats();
    if (!st) return;
    metrics.allocated.set({ kind: 'global' }, st.globalIps);
    metrics.allocated.set({ kind: 'egress' }, st.egressScopes);
    metrics.allocated.set({ kind: 'pool' }, st.poolAllocations);
  }

  function writeFailed(e: unknown, kind: KubeKind, key: string, myTerm: number) {
    if (KubeError.isInstance(e) && e.code === 'NOT_FOUND') return; // deleted meanwhile: its delete event follows
    const reason = KubeError.isInstance(e) ? `Write${e.code}` : 'WriteFailed';
    metrics.errors.inc({ reason });
    log.warn('write failed; will retry', { kind, key, error: e });
    retryLater(kind, key, myTerm);
  }

  function scheduleFlush() {
    if (!core) return;
    planDirty = true;
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flushPlans(term).finally(() => {
        planDirty = flushTimer !== undefined;
        notifyIdle();
      });
    }, debounceMs);
  }

  async function flushPlans(myTerm: number): Promise<void> {
    if (!core || term !== myTerm) return;
    let out: NodePlanWrites;
    try {
      out = core.flushNodePlans();
    } catch (e) {
      metrics.errors.inc({ reason: 'NodePlanFailed' });
      log.error('node plan computation threw', { error: e });
      return;
    }
    const jobs: (() => Promise<void>)[] = [];
    for (const u of out.upserts) {
      jobs.push(async () => {
        if (term !== myTerm) return;
        try {
          await writeNodePlan(u.name, u.spec, u.hash);
        } catch (e) {
          metrics.errors.inc({ reason: 'NodePlanWriteFailed' });
          log.warn('node plan write failed', { node: u.name, error: e });
          // Feeding the node again marks its plan changed, so the next flush writes it again.
          const node = kindInformers.get('Node')?.get(u.name);
          if (node && core && term === myTerm) {
            core.apply({ op: 'upsert', kind: 'Node', object: node } as ObjectEvent, now().toISOString());
            setTimeout(scheduleFlush, 1_000).unref();
          }
        }
      });
    }
    for (const name of out.deletes) {
      jobs.push(async () => {
        if (term !== myTerm) return;
        await deleteObject(kc, `${NODEPLANS}/${name}`).catch((e) =>
          log.warn('node plan delete failed', { node: name, error: e }),
        );
      });
    }
    for (const p of out.problems) {
      metrics.errors.inc({ reason: p.reason });
      jobs.push(() => events.record(p.ref, 'Warning', p.reason, p.message));
    }
    await pool(concurrency, jobs);
  }

  async function writeNodePlan(name: string, spec: NodePlan['spec'], hash: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = nodePlans.get(name);
      if (existing?.metadata.annotations?.[SPEC_HASH_ANNOTATION] === hash) return;
      const body = {
        apiVersion: API_VERSION,
        kind: 'NodePlan',
        metadata: {
          name,
          ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}),
          annotations: { ...existing?.metadata.annotations, [SPEC_HASH_ANNOTATION]: hash },
        },
        spec,
      };
      try {
        if (existing) await replaceObject(kc, `${NODEPLANS}/${name}`, body);
        else await createObject(kc, NODEPLANS, body);
        return;
      } catch (e) {
        // Our cache was behind: read the current one into the cache's place and decide again.
        if (!KubeError.isInstance(e) || (e.code !== 'CONFLICT' && e.code !== 'ALREADY_EXISTS')) throw e;
        await nodePlans.resync();
      }
    }
    throw new KubeError('CONFLICT_RETRIES_EXHAUSTED', `NodePlan ${name}: still conflicting after 5 tries`, {
      status: 409,
    });
  }

  const collect = () => {
    const list = <T>(k: KubeKind) => (kindInformers.get(k)?.list() ?? []) as unknown as T[];
    return {
      pods: list('Pod'),
      services: list('Service'),
      serviceExports: list('ServiceExport'),
      namespaces: list('Namespace'),
      nodes: list('Node'),
      ipPools: list('IPPool'),
      globalEgressIPs: list('GlobalEgressIP'),
      clusterGlobalEgressIPs: list('ClusterGlobalEgressIP'),
      clusterSetMembers: list('ClusterSetMember'),
      nodePlans: nodePlans.list(),
    } as Parameters<Reconciler['recover']>[0];
  };

  let syncedAll = false;
  let startInformers: () => void = () => {};
  const started = new Promise<void>((r) => {
    startInformers = r;
  })
    .then(() => Promise.all(all.map((i) => i.start())))
    .then(() => {
      syncedAll = true;
    });

  let leadingSince = 0;
  async function lead(myTerm: number): Promise<void> {
    await started;
    if (term !== myTerm || stopping) return;
    // A list older than our leadership may trail writes the previous leader made just before it
    // stopped: read those afresh (at a cold start the lists come after the first election: none).
    await Promise.all(all.filter((i) => i.listedAt < leadingSince).map((i) => i.resync()));
    if (term !== myTerm || stopping) return;
    const t0 = performance.now();
    const fresh = createReconciler(opts.config);
    let repairs: Writes;
    try {
      repairs = fresh.recover(collect(), now().toISOString());
    } catch (e) {
      metrics.errors.inc({ reason: 'RecoverFailed' });
      log.error('recover threw', { error: e });
      throw e;
    }
    core = fresh;
    queue = [];
    fed.clear();
    writes.clear();
    // Repairs go through the pipeline like any write: events that follow are applied meanwhile.
    submit([repairs], myTerm, t0);
    log.info('recovered', { ms: Math.round(performance.now() - t0), stats: fresh.stats() });
    publishStats();
    scheduleFlush();
    kick();
    notifyIdle();
  }

  const elector: LeaderElector = createLeaderElector({
    kubeConfig: kc,
    namespace: opts.leaseNamespace ?? CONTROLLER_NAMESPACE,
    name: opts.leaseName ?? LEASE_NAME,
    identity,
    logger: log,
    ...(opts.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: opts.leaseDurationSeconds }),
    ...(opts.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: opts.renewDeadlineMs }),
    ...(opts.retryPeriodMs === undefined ? {} : { retryPeriodMs: opts.retryPeriodMs }),
    onStartedLeading: () => {
      metrics.leader.set(1);
      leadingSince = Date.now();
      const myTerm = ++term;
      lead(myTerm).catch((e) => log.error('could not start leading', { error: e }));
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      term++;
      core = undefined;
      queue = [];
      writes.clear();
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      planDirty = false;
      notifyIdle();
    },
  });
  // One election round first, so a replica that leads at once lists after it took over (no resync).
  await elector.start();
  startInformers();

  let server: HealthServer | undefined;
  const readyNow = () => syncedAll && (!elector.isLeader || (core?.recovered ?? false));
  const unhealthyAfterMs = opts.unhealthyAfterMs ?? 120_000;
  // Liveness: a replica whose watches stay broken is restarted; the bound outlasts an API server restart.
  const healthyNow = () =>
    !stopping && all.every((i) => i.failingSince === 0 || Date.now() - i.failingSince < unhealthyAfterMs);
  if (opts.metricsPort !== undefined) {
    server = await startHealthServer({
      port: opts.metricsPort,
      ...(opts.metricsHost === undefined ? {} : { host: opts.metricsHost }),
      metrics,
      ready: readyNow,
      healthy: healthyNow,
    });
  }

  return {
    identity,
    get isLeader() {
      return elector.isLeader;
    },
    get ready() {
      return readyNow();
    },
    get healthy() {
      return healthyNow();
    },
    get recovered() {
      return core?.recovered ?? false;
    },
    metrics,
    metricsPort: server?.port,
    endpointSlices,
    get reconciler() {
      return core;
    },
    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      term++;
      core = undefined;
      queue = [];
      writes.clear();
      if (flushTimer) clearTimeout(flushTimer);
      await elector.stop();
      for (const i of all) i.stop();
      await server?.close();
      planDirty = false;
      scheduled = false;
      notifyIdle();
    },
  };
}
