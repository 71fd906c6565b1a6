// Restart recovery: who keeps each recorded address when objects disagree, decided by seniority.
import { parseAddr } from '@isthmus/ipam';
import { seniority } from './refs';
import type { ObjectRef } from './types';

/** An address (or block) an object says it holds, as read from its annotation or status. */
export interface Claim {
  /** The allocator's owner key. */
  readonly owner: string;
  /** Canonical addresses. */
  readonly addresses: readonly string[];
  readonly ref: ObjectRef;
  readonly created: string;
  readonly uid: string;
  /** A stable tie-breaker: kind/namespace/name. */
  readonly key: string;
  /** Selector of a pod-selector egress scope (globalnet snapshot `selectors`). */
  readonly selector?: unknown;
}

export interface LostClaim {
  readonly claim: Claim;
  readonly reason: 'GlobalIPConflict' | 'PoolIPConflict' | 'ScopeInUse' | 'InvalidRecord';
  readonly message: string;
}

/** Canonical text of an address annotation, or undefined when it does not parse. */
export function canonicalAddr(text: string): string | undefined {
  try {
    return String(parseAddr(text.trim()));
  } catch {
    return undefined;
  }
}

/**
 * Keeps the senior claim of every address and owner key: oldest creationTimestamp, then uid, then key.
 * A claim that loses one address loses all of them (blocks are all or nothing).
 */
export function resolveClaims(
  claims: readonly Claim[],
  addressReason: LostClaim['reason'],
): { winners: Claim[]; losers: LostClaim[] } {
  const sorted = [...claims].sort(seniority);
  const byAddr = new Map<string, Claim>();
  const byOwner = new Map<string, Claim>();
  const winners: Claim[] = [];
  const losers: LostClaim[] = [];
  for (const c of sorted) {
    const holder = byOwner.get(c.owner);
    if (holder !== undefined) {
      losers.push({
        claim: c,
        reason: 'ScopeInUse',
        message: `${c.key} records ${c.owner}, which ${holder.key} (older) holds`,
      });
      continue;
    }
    const hit = c.addresses.find((a) => byAddr.has(a));
    if (hit !== undefined) {
      losers.push({
        claim: c,
        reason: addressReason,
        message: `${hit} is recorded on ${c.key} and on ${byAddr.get(hit)?.key} (older, keeps it); ${c.key} gets another address`,
      });
      continue;
    }
    byOwner.set(c.owner, c);
    for (const a of c.addresses) byAddr.set(a, c);
    winners.push(c);
  }
  return { winners, losers };
}

/** Owner keys a SNAPSHOT_CONFLICT's details name, with each conflict's message. */
export function conflictOwners(details: Readonly<Record<string, unknown>>): Map<string, string> {
  const out = new Map<string, string>();
  const list = details.conflicts;
  if (!Array.isArray(list)) return out;
  for (const c of list as ReadonlyArray<{ owner?: unknown; message?: unknown }>) {
    if (typeof c.owner === 'string') out.set(c.owner, typeof c.message === 'string' ? c.message : 'conflict');
  }
  return out;
}

/**
 * Restores an allocator from the winners; owners the allocator itself rejects (outside the CIDR, the
 * network address, a block of the wrong shape) become losers and the rest is restored without them.
 */
export function restoreWith<A>(
  winners: readonly Claim[],
  restore: (kept: readonly Claim[]) => A,
  isConflict: (e: unknown) => Readonly<Record<string, unknown>> | undefined,
): { allocator: A; rejected: LostClaim[] } {
  let kept = [...winners];
  const rejected: LostClaim[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return { allocator: restore(kept), rejected };
    } catch (e) {
      const details = isConflict(e);
      if (details === undefined) throw e;
      const bad = conflictOwners(details);
      // A conflict that names no owner (a recorded CIDR) cannot be narrowed: drop every claim.
      const drop = bad.size === 0 ? new Set(kept.map((c) => c.owner)) : new Set(bad.keys());
      for (const c of kept) {
        if (drop.has(c.owner)) {
          rejected.push({
            claim: c,
            reason: 'InvalidRecord',
            message: `${c.key}: ${bad.get(c.owner) ?? 'not restorable'}`,
          });
        }
      }
      kept = kept.filter((c) => !drop.has(c.owner));
    }
  }
  return {
    allocator: restore([]),
    rejected: [
      ...rejected,
      ...kept.map((claim) => ({
        claim,
        reason: 'InvalidRecord' as const,
        message: `${claim.key}: not restorable`,
      })),
    ],
  };
}

/** Snapshot text of a claim's addresses: one address, a contiguous run "a-b", else a list (which restore refuses for a block). */
export function snapshotAddresses(addresses: readonly string[]): string {
  if (addresses.length <= 1) return addresses[0] ?? '';
  const sorted = addresses.map((a) => parseAddr(a)).sort((x, y) => x.compare(y));
  const run = sorted.every((a, i) => i === 0 || sorted[i - 1]?.next()?.equals(a) === true);
  return run ? `${sorted[0]}-${sorted[sorted.length - 1]}` : addresses.join(',');
}
