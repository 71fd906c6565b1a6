import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './errors';
import { request } from './http';

/** How many times a write that meets 409 Conflict is re-read and retried before CONFLICT_RETRIES_EXHAUSTED. */
export const MAX_CONFLICT_RETRIES = 5;

export interface MergePatchOptions {
  /** Optimistic concurrency: the write fails with 409 unless the object is still at this version. */
  readonly resourceVersion?: string;
  /**
   * After a 409 the object is re-read; when it does not already hold the patch, this decides whether
   * the patch still applies to the new version (then it is retried at that version). Default: no, the
   * CONFLICT error is the caller's to handle.
   */
  readonly retryIf?: (current: unknown) => boolean;
}

/** True when every field of `patch` (a JSON merge patch) already has that value in `obj`. */
export function satisfies(obj: unknown, patch: unknown): boolean {
  if (patch === null) return obj === undefined || obj === null;
  if (typeof patch !== 'object' || Array.isArray(patch)) return JSON.stringify(obj) === JSON.stringify(patch);
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return false;
  const o = obj as Record<string, unknown>;
  return Object.entries(patch as Record<string, unknown>).every(([k, v]) => satisfies(o[k], v));
}

function withVersion(patch: object, rv: string): object {
  const p = patch as { metadata?: Record<string, unknown> };
  return { ...p, metadata: { ...p.metadata, resourceVersion: rv } };
}

/**
 * A JSON merge patch (RFC 7386) of the object at `path`. With `resourceVersion`, the server refuses it
 * (409) when the object changed since; the object is then re-read: already patched → success; else
 * retried at the new version when `retryIf` agrees (at most MAX_CONFLICT_RETRIES times), else CONFLICT.
 */
export async function mergePatch(
  kc: KubeConfig,
  path: string,
  patch: object,
  opts: MergePatchOptions = {},
): Promise<unknown> {
  let rv = opts.resourceVersion;
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(kc, path, {
        method: 'PATCH',
        body: rv === undefined ? patch : withVersion(patch, rv),
        contentType: 'application/merge-patch+json',
      });
    } catch (e) {
      if (!KubeError.isInstance(e) || e.code !== 'CONFLICT') throw e;
      const current = await request<{ metadata?: { resourceVersion?: string } }>(kc, path);
      if (satisfies(current, patch)) return current;
      if (rv !== undefined && !(opts.retryIf?.(current) ?? false)) throw e;
      if (attempt + 1 >= MAX_CONFLICT_RETRIES) {
        throw new KubeError(
          'CONFLICT_RETRIES_EXHAUSTED',
          `PATCH ${path}: still conflicting after ${attempt + 1} tries`,
          {
            path,
            status: 409,
          },
        );
      }
      rv = rv === undefined ? undefined : current.metadata?.resourceVersion;
    }
  }
}

/**
 * Read-modify-write of an object's status subresource: GET `path`, `mutate` the current object (return
 * undefined when there is nothing to write), PUT `path + '/status'` at the version read; 409 → again.
 */
export async function updateStatus<T>(
  kc: KubeConfig,
  path: string,
  mutate: (current: T) => T | undefined,
): Promise<T | undefined> {
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const current = await request<T>(kc, path);
    const next = mutate(current);
    if (next === undefined) return undefined;
    try {
      return await request<T>(kc, `${path}/status`, { method: 'PUT', body: next });
    } catch (e) {
      if (!KubeError.isInstance(e) || e.code !== 'CONFLICT') throw e;
    }
  }
  throw new KubeError(
    'CONFLICT_RETRIES_EXHAUSTED',
    `PUT ${path}/status: still conflicting after ${MAX_CONFLICT_RETRIES} tries`,
    { path, status: 409 },
  );
}

/** POST a new object to its collection; ALREADY_EXISTS when the name is taken. */
export function createObject<T>(kc: KubeConfig, collectionPath: string, obj: T): Promise<T> {
  return request<T>(kc, collectionPath, { method: 'POST', body: obj });
}

/** PUT a whole object (its metadata.resourceVersion makes it conditional). */
export function replaceObject<T>(kc: KubeConfig, path: string, obj: T): Promise<T> {
  return request<T>(kc, path, { method: 'PUT', body: obj });
}

/** DELETE an object; a missing one counts as deleted. */
export async function deleteObject(kc: KubeConfig, path: string): Promise<void> {
  try {
    await request(kc, path, { method: 'DELETE' });
  } catch (e) {
    if (!KubeError.isInstance(e) || e.code !== 'NOT_FOUND') throw e;
  }
}

/** GET an object, or undefined when it does not exist. */
export async function getObject<T>(kc: KubeConfig, path: string): Promise<T | undefined> {
  try {
    return await request<T>(kc, path);
  } catch (e) {
    if (KubeError.isInstance(e) && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

export interface KeyedQueueOptions<T> {
  /** Most writes in flight at once (across keys). */
  readonly concurrency: number;
  /** Performs one item; a rejection is swallowed (handle failures inside). */
  readonly run: (key: string, item: T) => Promise<void>;
  /** Folds a newer item into one still waiting for the same key; default: the newer one replaces it. */
  readonly merge?: (waiting: T, next: T) => T;
  /** Called whenever the queue becomes empty (nothing waiting, nothing running). */
  readonly onIdle?: () => void;
}

export interface KeyedQueue<T> {
  /** Queues `item` for `key`: it starts once a slot is free and no earlier item of that key runs. */
  push(key: string, item: T): void;
  /** Drops every item that has not started (running ones finish). */
  clear(): void;
  /** Items waiting or running. */
  readonly size: number;
  readonly running: number;
}

/**
 * A write pipeline: items of different keys run concurrently (at most `concurrency`), items of one key
 * run in order, one at a time, and the items waiting for one key are merged into one (latest wins).
 */
export function createKeyedQueue<T>(opts: KeyedQueueOptions<T>): KeyedQueue<T> {
  const limit = Math.max(1, Math.floor(opts.concurrency));
  const merge = opts.merge ?? ((_: T, next: T) => next);
  const ready = new Map<string, T>(); // keys not running, in first-push order
  const behind = new Map<string, T>(); // the next item of a key that is running
  const active = new Set<string>();

  const pump = () => {
    for (const [key, item] of ready) {
      if (active.size >= limit) break;
      ready.delete(key);
      active.add(key);
      void Promise.resolve()
        .then(() => opts.run(key, item))
        .catch(() => undefined)
        .then(() => {
          active.delete(key);
          const next = behind.get(key);
          if (next !== undefined) {
            behind.delete(key);
            ready.set(key, next);
          }
          pump();
          if (active.size === 0 && ready.size === 0) opts.onIdle?.();
        });
    }
  };

  return {
    push(key, item) {
      const into = active.has(key) ? behind : ready;
      const waiting = into.get(key);
      into.set(key, waiting === undefined ? item : merge(waiting, item));
      pump();
    },
    clear() {
      ready.clear();
      behind.clear();
    },
    get size() {
      return ready.size + behind.size + active.size;
    },
    get running() {
      return active.size;
    },
  };
}
