import type { KubeConfig } from '@kubernetes/client-node';
import { type Logger, silentLogger } from '../log';
import { KubeError } from './errors';
import { request, type WatchEvent, type WatchHandle, watchStream } from './http';

export interface InformerOptions {
  readonly kubeConfig: KubeConfig;
  /** The collection path: '/api/v1/pods', '/apis/isthmus.io/v1alpha1/nodeplans', '/api/v1/namespaces/x/pods'. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  /** A watch with no line (event or bookmark) for this long is restarted; default 5 minutes. */
  readonly stallTimeoutMs?: number;
  /** Page size of a list; default 500. */
  readonly pageSize?: number;
  readonly logger?: Logger;
  /** Called with the reason each time a failed or stalled watch is restarted (metrics hook). */
  readonly onRestart?: (reason: string) => void;
  /** Randomness for the backoff jitter; default Math.random. */
  readonly random?: () => number;
}

export type InformerEvent = 'add' | 'update' | 'delete';

export interface Informer<T> {
  /** Lists, then watches; resolves once the first list is in the store (retrying failures until stop()). */
  start(): Promise<void>;
  stop(): void;
  list(): T[];
  /** By 'namespace/name', or 'name' for cluster-scoped objects. */
  get(key: string): T | undefined;
  on(ev: InformerEvent, fn: (obj: T, old?: T) => void): void;
  /**
   * Lists again now (a consistent read) and emits the differences; resolves when the store holds it.
   * A new leader calls it so its view is at least as new as the server at the moment it took over.
   */
  resync(): Promise<void>;
  /** Date.now() when the list now in the store was requested (0 before the first list). */
  readonly listedAt: number;
  /** Watches restarted after an error, a stall or a 410 Gone. */
  readonly restarts: number;
  /**
   * Date.now() when a list or watch last failed or stalled without a working one since (a list that
   * succeeded or a watch the server accepted); 0 while it works. Health checks bound how long this lasts.
   */
  readonly failingSince: number;
  readonly synced: boolean;
}

type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

/** The store key of an object: 'namespace/name' or 'name'. */
export function objectKey(obj: Meta): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 30_000;

/** The delay before retry number `attempt` (0-based): doubling from 200 ms to 30 s, with +-50% jitter. */
export function backoffMs(attempt: number, random: () => number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 20));
  return Math.round(base * (0.5 + random()));
}

interface ListResponse {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: Record<string, unknown>[];
}

/**
 * A list+watch cache of one collection, like client-go's reflector: lists, watches from the list's
 * resourceVersion with bookmarks, restarts a watch that fails or stays silent, relists on 410 Gone and
 * emits add/update/delete from the difference, so no change is missed across restarts.
 * The watch stream is @kubernetes/client-node's `Watch`; client-node's own `makeInformer` is not used
 * because it has no stall watchdog and gives no hook for restarts (metrics), and lists stay plain JSON
 * (client-node's typed list calls turn objects into model classes the reconcile core does not read).
 */
export function createInformer<T extends Meta>(opts: InformerOptions): Informer<T> {
  const log = (opts.logger ?? silentLogger).child({ informer: opts.path });
  const random = opts.random ?? Math.random;
  const stallMs = opts.stallTimeoutMs ?? 300_000;
  const store = new Map<string, T>();
  const handlers: Record<InformerEvent, ((obj: T, old?: T) => void)[]> = { add: [], update: [], delete: [] };
  let resourceVersion = '';
  let stopped = false;
  let synced = false;
  let restarts = 0;
  let attempt = 0;
  let watch: WatchHandle | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let lastActivity = 0;
  let generation = 0; // bumps on every (re)start, so callbacks of an old watch are ignored
  let resolveStart: (() => void) | undefined;
  let waiters: (() => void)[] = [];
  let listedAt = 0;
  let failingSince = 0;

  const emit = (ev: InformerEvent, obj: T, old?: T) => {
    for (const fn of handlers[ev]) {
      try {
        fn(obj, old);
      } catch (e) {
        log.error('informer handler threw', { event: ev, key: objectKey(obj), error: e });
      }
    }
  };

  const selectors = () => ({
    fieldSelector: opts.fieldSelector,
    labelSelector: opts.labelSelector,
  });

  async function listAll(): Promise<{ items: T[]; rv: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await request<ListResponse>(opts.kubeConfig, opts.path, {
        query: { ...selectors(), limit: opts.pageSize ?? 500, continue: cont },
        timeoutMs: 60_000,
      });
      for (const it of page.items ?? []) items.push(it as T);
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont && !stopped);
    return { items, rv };
  }

  function replace(items: T[]) {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = store.get(key);
      store.set(key, obj);
      if (!old) emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) emit('update', obj, old);
    }
    for (const [key, old] of [...store]) {
      if (!seen.has(key)) {
        store.delete(key);
        emit('delete', old);
      }
    }
  }

  function schedule(fn: () => void, reason: string | undefined) {
    clearTimers();
    if (stopped) return;
    if (reason !== undefined) {
      if (failingSince === 0) failingSince = Date.now();
      restarts++;
      opts.onRestart?.(reason);
    }
    const delay = reason === undefined ? 0 : backoffMs(attempt++, random);
    retryTimer = setTimeout(fn, delay);
  }

  function clearTimers() {
    if (watchdog) clearInterval(watchdog);
    if (retryTimer) clearTimeout(retryTimer);
    watchdog = undefined;
    retryTimer = undefined;
  }

  async function relist(): Promise<void> {
    const gen = ++generation;
    watch?.abort();
    watch = undefined;
    try {
      const began = Date.now();
      const { items, rv } = await listAll();
      if (stopped || gen !== generation) return;
      listedAt = began;
      failingSince = 0;
      replace(items);
      resourceVersion = rv;
      attempt = 0;
      if (!synced) {
        synced = true;
        resolveStart?.();
      }
      const done = waiters;
      waiters = [];
      for (const w of done) w();
      void startWatch();
    } catch (e) {
      if (stopped || gen !== generation) return;
      log.warn('list failed', { error: e });
      schedule(() => void relist(), `list: ${KubeError.isInstance(e) ? e.code : 'error'}`);
    }
  }

  function onEvent(gen: number, ev: WatchEvent) {
    if (gen !== generation || stopped) return;
    lastActivity = Date.now();
    const obj = ev.object as T;
    const rv = obj.metadata?.resourceVersion;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = objectKey(obj);
        const old = store.get(key);
        store.set(key, obj);
        if (old) emit('update', obj, old);
        else emit('add', obj);
        break;
      }
      case 'DELETED': {
        const key = objectKey(obj);
        const old = store.get(key);
        store.delete(key);
        emit('delete', old ?? obj);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const code = (ev.object as { code?: number }).code;
        watch?.abort();
        if (code === 410) {
          log.info('watch expired (410 Gone): relisting');
          schedule(() => void relist(), 'gone');
        } else {
          log.warn('watch error event', {
            status: code,
            message: (ev.object as { message?: string }).message,
          });
          schedule(() => void startWatch(), 'watch-error');
        }
        return;
      }
    }
    if (rv) resourceVersion = rv;
    attempt = 0;
  }

  async function startWatch(): Promise<void> {
    const gen = ++generation;
    clearTimers();
    lastActivity = Date.now();
    // The server ends the watch before the watchdog would; a healthy but quiet watch is simply renewed.
    const timeoutSeconds = Math.max(1, Math.floor((stallMs / 1000) * (0.5 + 0.25 * random())));
    let ended = false; // client-node reports a refused watch (non-2xx) before the call resolves
    try {
      watch = await watchStream(
        opts.kubeConfig,
        opts.path,
        { ...selectors(), resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (ev) => onEvent(gen, ev),
        (err) => {
          ended = true;
          if (gen !== generation || stopped) return;
          if (err === undefined) {
            schedule(() => void startWatch(), undefined);
          } else if (err.code === 'GONE') {
            schedule(() => void relist(), 'gone');
          } else {
            log.warn('watch failed', { error: err });
            schedule(() => void startWatch(), `watch: ${err.code}`);
          }
        },
      );
    } catch (e) {
      if (gen !== generation || stopped) return;
      log.warn('watch could not start', { error: e });
      schedule(() => void startWatch(), 'watch: start');
      return;
    }
    if (gen !== generation || stopped) {
      watch.abort();
      return;
    }
    if (!ended) failingSince = 0;
    watchdog = setInterval(
      () => {
        if (gen !== generation || stopped) return;
        if (Date.now() - lastActivity > stallMs) {
          log.warn('watch stalled: restarting', { silentMs: Date.now() - lastActivity });
          watch?.abort();
          schedule(() => void startWatch(), 'stall');
        }
      },
      Math.max(50, Math.min(5_000, stallMs / 4)),
    );
    watchdog.unref();
  }

  return {
    start() {
      stopped = false;
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve) => {
        resolveStart = resolve;
        void relist();
      });
    },
    stop() {
      stopped = true;
      generation++;
      clearTimers();
      watch?.abort();
      watch = undefined;
      resolveStart?.();
      const done = waiters;
      waiters = [];
      for (const w of done) w();
    },
    resync() {
      if (stopped) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        clearTimers();
        void relist();
      });
    },
    list: () => [...store.values()],
    get: (key) => store.get(key),
    on(ev, fn) {
      handlers[ev].push(fn);
    },
    get restarts() {
      return restarts;
    },
    get synced() {
      return synced;
    },
    get listedAt() {
      return listedAt;
    },
    get failingSince() {
      return failingSince;
    },
  };
}
