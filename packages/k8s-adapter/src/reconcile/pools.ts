// IPPool allocations for pods that ask by annotation, and each pool's status.

import { createPool, IpamError, type Pool, type PoolSpec, restorePool, updatePool } from '@isthmus/ipam';
import type { V1Pod } from '@kubernetes/client-node';
import {
  type Condition,
  type IPPool,
  type IPPoolStatus,
  POOL_ANNOTATION,
  POOL_IP_ANNOTATION,
} from '../resources';
import {
  type Claim,
  canonicalAddr,
  type LostClaim,
  resolveClaims,
  restoreWith,
  snapshotAddresses,
} from './claims';
import { sameConditions, setCondition } from './conditions';
import { canonicalJson } from './hash';
import type { Outbox } from './outbox';
import { createdOf, keyOf, objectRef, POOL_ERROR_ANNOTATION } from './refs';
import type { Store } from './store';

/**
 * The owner key of a pod in a pool: its UID, which never repeats, so a pod recreated under the same name
 * can never inherit (or release) its predecessor's address; `ns/name` only for objects without a UID.
 */
export function poolOwner(pod: V1Pod): string {
  return pod.metadata?.uid || `pod/${keyOf(pod)}`;
}

interface Holding {
  readonly pool: string;
  readonly owner: string;
  readonly ip: string;
}

/** Which pods asked for a pool and why they wait. */
type Wait = 'unknown' | 'exhausted';

export class Pools {
  private readonly pools = new Map<string, Pool>();
  private readonly specText = new Map<string, string>();
  /** Pool name -> why its spec is refused (the pool hands out nothing). */
  private readonly invalid = new Map<string, string>();
  /** Pool name -> why its last spec change was refused (the previous spec stays in force). */
  private readonly rejected = new Map<string, string>();
  private readonly holdings = new Map<string, Holding>();
  private readonly members = new Map<string, Set<string>>();
  private readonly waiting = new Map<string, Map<string, Wait>>();
  private readonly dirty = new Set<string>();

  constructor(private readonly store: Store) {}

  get count(): number {
    return this.holdings.size;
  }

  /** Owners held inside the pool allocators (a leak check against `count`). */
  allocatorOwners(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.stats().owners;
    return n;
  }

  /** Takes a created, changed or deleted IPPool into account; its pods follow. */
  syncPool(name: string, out: Outbox): void {
    const obj = this.store.pools.get(name);
    this.dirty.add(name);
    if (obj === undefined) {
      this.pools.delete(name);
      this.specText.delete(name);
      this.invalid.delete(name);
      this.rejected.delete(name);
      // Its pods lose their addresses and wait for a pool of that name again.
      for (const podKey of [...(this.members.get(name) ?? [])]) this.syncPod(podKey, out);
      return;
    }
    const spec: PoolSpec = { ...obj.spec, name };
    const text = canonicalJson(spec);
    if (this.specText.get(name) === text) return;
    const current = this.pools.get(name);
    try {
      const next = current === undefined ? createPool(spec) : updatePool(current, spec);
      this.pools.set(name, next);
      this.specText.set(name, text);
      this.invalid.delete(name);
      this.rejected.delete(name);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (current === undefined) this.invalid.set(name, message);
      else this.rejected.set(name, message);
      out.problem(objectRef('IPPool', obj), current === undefined ? 'InvalidSpec' : 'SpecRejected', message);
      return;
    }
    this.retry(name, out);
  }

  /** Brings one pod's pool address (and its annotations) to what it asks for. */
  syncPod(podKey: string, out: Outbox): void {
    const pod = this.store.pods.get(podKey);
    const want = pod?.metadata?.annotations?.[POOL_ANNOTATION]?.trim() || undefined;
    const have = this.holdings.get(podKey);
    if (
      have !== undefined &&
      (pod === undefined || want !== have.pool || poolOwner(pod) !== have.owner || !this.pools.has(have.pool))
    ) {
      this.release(podKey, have);
    }
    for (const [poolName, w] of this.waiting) if (poolName !== want || pod === undefined) w.delete(podKey);
    if (pod === undefined) return;
    const ref = { ...objectRef('Pod', pod), namespace: pod.metadata?.namespace ?? '' };
    const annotations = pod.metadata?.annotations;
    if (want === undefined) {
      out.annotate(ref, annotations, POOL_IP_ANNOTATION, null);
      out.annotate(ref, annotations, POOL_ERROR_ANNOTATION, null);
      return;
    }
    const fail = (wait: Wait, reason: string, message: string) => {
      let w = this.waiting.get(want);
      if (w === undefined) {
        w = new Map();
        this.waiting.set(want, w);
      }
      if (w.get(podKey) !== wait) this.dirty.add(want);
      w.set(podKey, wait);
      if (annotations?.[POOL_ERROR_ANNOTATION] !== message) out.problem(ref, reason, message);
      out.annotate(ref, annotations, POOL_IP_ANNOTATION, null);
      out.annotate(ref, annotations, POOL_ERROR_ANNOTATION, message);
    };
    const pool = this.pools.get(want);
    if (pool === undefined) {
      const why = this.invalid.get(want);
      if (why !== undefined) fail('unknown', 'InvalidPool', `IPPool ${want} is invalid: ${why}`);
      else fail('unknown', 'UnknownPool', `IPPool ${want} does not exist`);
      return;
    }
    const owner = poolOwner(pod);
    try {
      const ip = String(pool.allocate(owner));
      if (this.waiting.get(want)?.delete(podKey)) this.dirty.add(want);
      if (have === undefined || have.ip !== ip || have.pool !== want) {
        this.holdings.set(podKey, { pool: want, owner, ip });
        this.member(want).add(podKey);
        this.dirty.add(want);
      }
      out.annotate(ref, annotations, POOL_IP_ANNOTATION, ip);
      out.annotate(ref, annotations, POOL_ERROR_ANNOTATION, null);
    } catch (e) {
      if (IpamError.isInstance(e) && e.code === 'POOL_EXHAUSTED') {
        fail('exhausted', 'PoolExhausted', `IPPool ${want} has no free address`);
      } else {
        fail('unknown', 'PoolAllocationFailed', e instanceof Error ? e.message : String(e));
      }
    }
  }

  /** Retries pods waiting on pools that freed addresses or appeared. */
  retryDirty(out: Outbox): void {
    for (const name of [...this.dirty]) this.retry(name, out);
  }

  /** The desired status of every pool touched since the last call (only those that differ). */
  flushStatuses(now: string, out: Outbox): void {
    for (const name of this.dirty) {
      const obj = this.store.pools.get(name);
      if (obj === undefined) continue;
      const status = this.statusOf(name, obj, now);
      const cur = obj.status ?? {};
      if (
        cur.total === status.total &&
        cur.allocated === status.allocated &&
        cur.free === status.free &&
        sameConditions(cur.conditions, status.conditions)
      ) {
        continue;
      }
      const was = cur.conditions?.find((c) => c.type === 'Exhausted')?.status;
      const is = status.conditions?.find((c) => c.type === 'Exhausted');
      if (is?.status === 'True' && was !== 'True')
        out.problem(objectRef('IPPool', obj), 'PoolExhausted', is.message);
      out.poolStatus(objectRef('IPPool', obj), status);
    }
    this.dirty.clear();
  }

  /** Recovery: rebuilds every valid pool from its pods' annotations; the losers of a conflict are re-served. */
  recover(out: Outbox): LostClaim[] {
    const byPool = new Map<string, Claim[]>();
    for (const pod of this.store.pods.values()) {
      const a = pod.metadata?.annotations;
      const name = a?.[POOL_ANNOTATION]?.trim();
      const text = a?.[POOL_IP_ANNOTATION];
      if (!name || text === undefined) continue;
      const ip = canonicalAddr(text);
      if (ip === undefined) {
        out.problem(
          objectRef('Pod', pod),
          'InvalidAnnotation',
          `${POOL_IP_ANNOTATION} ${JSON.stringify(text)} is not an IP address; it is replaced`,
        );
        continue;
      }
      let list = byPool.get(name);
      if (list === undefined) {
        list = [];
        byPool.set(name, list);
      }
      list.push({
        owner: poolOwner(pod),
        addresses: [ip],
        ref: objectRef('Pod', pod),
        created: createdOf(pod),
        uid: pod.metadata?.uid ?? '',
        key: `Pod/${keyOf(pod)}`,
      });
    }
    const lost: LostClaim[] = [];
    for (const [name, obj] of this.store.pools) {
      const spec: PoolSpec = { ...obj.spec, name };
      try {
        createPool(spec);
      } catch (e) {
        this.invalid.set(name, e instanceof Error ? e.message : String(e));
        out.problem(objectRef('IPPool', obj), 'InvalidSpec', this.invalid.get(name) ?? '');
        this.dirty.add(name);
        continue;
      }
      const { winners, losers } = resolveClaims(byPool.get(name) ?? [], 'PoolIPConflict');
      const { allocator, rejected } = restoreWith(
        winners,
        (kept) =>
          restorePool(spec, {
            version: 1,
            pool: name,
            subnet: spec.subnet,
            allocations: kept.map((c) => [c.owner, snapshotAddresses(c.addresses)] as const),
          }),
        (e) => (IpamError.isInstance(e) && e.code === 'SNAPSHOT_CONFLICT' ? e.details : undefined),
      );
      this.pools.set(name, allocator);
      this.specText.set(name, canonicalJson(spec));
      this.dirty.add(name);
      const bad = new Set(rejected.map((r) => r.claim.owner));
      for (const c of winners) {
        if (bad.has(c.owner)) continue;
        const podKey = c.key.slice(4);
        this.holdings.set(podKey, { pool: name, owner: c.owner, ip: c.addresses[0] ?? '' });
        this.member(name).add(podKey);
      }
      lost.push(...losers, ...rejected);
    }
    return lost;
  }

  private retry(name: string, out: Outbox): void {
    const w = this.waiting.get(name);
    if (w === undefined || w.size === 0) return;
    for (const podKey of [...w.keys()]) {
      this.syncPod(podKey, out);
      // Still exhausted: the rest would fail the same way.
      if (w.get(podKey) === 'exhausted') break;
    }
  }

  private release(podKey: string, have: Holding): void {
    this.holdings.delete(podKey);
    this.members.get(have.pool)?.delete(podKey);
    this.pools.get(have.pool)?.release(have.owner);
    this.dirty.add(have.pool);
  }

  private member(pool: string): Set<string> {
    let set = this.members.get(pool);
    if (set === undefined) {
      set = new Set();
      this.members.set(pool, set);
    }
    return set;
  }

  private statusOf(name: string, obj: IPPool, now: string): IPPoolStatus {
    const pool = this.pools.get(name);
    const gen = obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {};
    let conditions: Condition[] = [...(obj.status?.conditions ?? [])];
    const invalid = this.invalid.get(name);
    const rejected = this.rejected.get(name);
    const ready =
      invalid !== undefined
        ? { status: 'False' as const, reason: 'InvalidSpec', message: invalid }
        : rejected !== undefined
          ? { status: 'False' as const, reason: 'SpecRejected', message: rejected }
          : { status: 'True' as const, reason: 'Valid', message: 'the pool hands out addresses' };
    conditions = setCondition(conditions, { type: 'Ready', ...ready, ...gen }, now);
    let starving = 0;
    for (const w of this.waiting.get(name)?.values() ?? []) if (w === 'exhausted') starving++;
    const stats = pool?.stats();
    const exhausted =
      starving > 0
        ? {
            status: 'True' as const,
            reason: 'PoolExhausted',
            message: `IPPool ${name} has no free address; ${starving} pod(s) wait`,
          }
        : {
            status: 'False' as const,
            reason: 'AddressesAvailable',
            message: `${stats?.free ?? 0n} address(es) free`,
          };
    conditions = setCondition(conditions, { type: 'Exhausted', ...exhausted, ...gen }, now);
    if (stats === undefined) return { ...obj.status, conditions };
    return {
      total: String(stats.total),
      allocated: String(stats.allocated),
      free: String(stats.free),
      conditions,
    };
  }
}
