import { CableError, show } from './errors';

/** A node that may run the cluster's gateway (Submariner labels them submariner.io/gateway=true). */
export interface GatewayCandidate {
  readonly node: string;
  readonly healthy: boolean;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The spec of a coordination.k8s.io/v1 Lease (times are RFC 3339 MicroTime strings). */
export interface LeaseSpec {
  readonly holderIdentity?: string | null;
  readonly leaseDurationSeconds?: number | null;
  readonly acquireTime?: string | null;
  readonly renewTime?: string | null;
  readonly leaseTransitions?: number | null;
}

/** The lease as electGateway writes it: every field present. */
export interface Lease {
  readonly holderIdentity: string | null;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | null;
  readonly renewTime: string | null;
  readonly leaseTransitions: number;
}

export interface ElectionOptions {
  /** Label a candidate must carry; default submariner.io/gateway=true; null accepts every node. */
  readonly gatewayLabel?: { readonly key: string; readonly value: string } | null;
  /** Duration of a new lease, when none exists yet (default 15 s, client-go's default). */
  readonly leaseDurationSeconds?: number;
  /** Renew once this fraction of the lease has passed (default 0.5). */
  readonly renewFraction?: number;
  /**
   * The `observation` the previous call returned to this caller (null: none yet). When given, the lease
   * expires `leaseDurationSeconds` after this caller (by its own clock) first saw the record as it is
   * now, whatever times it holds, so skewed clocks on other nodes cannot cut it short or stretch it.
   * Omitted: expiry follows the lease's own times, a renewTime in the future counting as now.
   */
  readonly observed?: LeaseObservation | null;
}

/** When this caller first saw the lease record in its current state (client-go's observedTime). */
export interface LeaseObservation {
  /** The record's fingerprint (holder, duration, acquire and renew times, transitions). */
  readonly record: string;
  /** The caller's own clock when it first saw that record (ms since the epoch). */
  readonly observedAt: number;
}

/**
 * - keep: the holder is eligible and its lease is fresh; nothing to write.
 * - renew: the holder is eligible; write the lease with renewTime = now.
 * - acquire: the lease was free (released, expired with its holder still eligible, or absent).
 * - takeover: another node's lease has expired; write the new holder.
 * - wait: the holder is no longer eligible but its lease has not expired; nobody may act before then.
 * - none: no eligible candidate and no live lease.
 */
export type ElectionAction = 'keep' | 'renew' | 'acquire' | 'takeover' | 'wait' | 'none';

export interface Election {
  /** The node that holds the gateway role after this decision (null: nobody). */
  readonly active: string | null;
  readonly action: ElectionAction;
  /** The lease to write for renew/acquire/takeover (compare-and-swap on the one read); else the current one. */
  readonly lease: Lease;
  /** When to run electGateway again (ms since the epoch); null when only a change of candidates matters. */
  readonly nextActionAt: number | null;
  readonly reason: string;
  /** Pass it as `options.observed` to the next call (it follows the lease this decision writes). */
  readonly observation: LeaseObservation;
}

export const GATEWAY_LABEL = { key: 'submariner.io/gateway', value: 'true' } as const;
const DEFAULT_DURATION = 15;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Kubernetes MicroTime: RFC 3339 with microseconds, UTC. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The instant `text` names, or null when a field is out of range (Feb 30, 24:00, +05:60, ...). */
function strictParse(text: string): number | null {
  const m = TIME.exec(text);
  if (m === null) return null;
  const n = (i: number) => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, s, oh, om] = [n(1), n(2), n(3), n(4), n(5), n(6), n(8), n(9)];
  if (oh > 23 || om > 59) return null;
  // Round trip: a Date rolls Feb 30 over to Mar 2, so fields that do not read back were out of range.
  const at = new Date(0);
  at.setUTCFullYear(y, mo - 1, d);
  at.setUTCHours(h, mi, s, 0);
  const same =
    at.getUTCFullYear() === y &&
    at.getUTCMonth() === mo - 1 &&
    at.getUTCDate() === d &&
    at.getUTCHours() === h &&
    at.getUTCMinutes() === mi &&
    at.getUTCSeconds() === s;
  if (!same) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

function parseTime(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  const t = typeof value === 'string' ? strictParse(value) : null;
  if (t === null) {
    throw new CableError(
      'INVALID_LEASE',
      `lease.${field} ${show(value)} is not a valid RFC 3339 time (a real date and time, like 2025-01-31T10:00:00.000000Z)`,
      { field, value },
    );
  }
  return t;
}

function nowMs(now: number | Date): number {
  const t = now instanceof Date ? now.getTime() : now;
  // Beyond ±8.64e15 ms a Date is invalid and formatting the lease times would throw a RangeError.
  if (typeof t !== 'number' || !Number.isFinite(t) || Math.abs(t) > 8.64e15) {
    throw new CableError(
      'INVALID_ARGUMENT',
      `now ${now instanceof Date ? String(now) : show(now)} must be a Date or milliseconds since the epoch`,
      {
        field: 'now',
      },
    );
  }
  return t;
}

function normalise(lease: LeaseSpec | null | undefined, defaultDuration: number): Lease {
  if (lease !== null && lease !== undefined && (typeof lease !== 'object' || Array.isArray(lease))) {
    throw new CableError('INVALID_LEASE', `lease ${show(lease)} must be a Lease spec object or null`, {
      field: 'lease',
    });
  }
  const l = lease ?? {};
  const duration = l.leaseDurationSeconds ?? defaultDuration;
  if (!Number.isInteger(duration) || duration < 1) {
    throw new CableError(
      'INVALID_LEASE',
      `lease.leaseDurationSeconds ${show(duration)} must be a positive integer`,
      {
        field: 'leaseDurationSeconds',
        value: duration,
      },
    );
  }
  const transitions = l.leaseTransitions ?? 0;
  if (!Number.isInteger(transitions) || transitions < 0) {
    throw new CableError(
      'INVALID_LEASE',
      `lease.leaseTransitions ${show(transitions)} must be a non-negative integer`,
      {
        field: 'leaseTransitions',
        value: transitions,
      },
    );
  }
  if (l.holderIdentity !== undefined && l.holderIdentity !== null && typeof l.holderIdentity !== 'string') {
    throw new CableError('INVALID_LEASE', `lease.holderIdentity ${show(l.holderIdentity)} must be a string`, {
      field: 'holderIdentity',
    });
  }
  parseTime(l.acquireTime, 'acquireTime');
  parseTime(l.renewTime, 'renewTime');
  return {
    holderIdentity: l.holderIdentity ? l.holderIdentity : null,
    leaseDurationSeconds: duration,
    acquireTime: l.acquireTime ?? null,
    renewTime: l.renewTime ?? null,
    leaseTransitions: transitions,
  };
}

/** The fingerprint of a lease record: any write (renewal, takeover, release) changes it. */
function leaseRecord(lease: Lease): string {
  return JSON.stringify([
    lease.holderIdentity,
    lease.leaseDurationSeconds,
    lease.acquireTime,
    lease.renewTime,
    lease.leaseTransitions,
  ]);
}

/** When the caller first saw `record`: the previous observation's time if the record is unchanged. */
function observedAt(observed: LeaseObservation | null, record: string, t: number): number {
  if (observed === null) return t;
  if (
    typeof observed !== 'object' ||
    typeof observed.record !== 'string' ||
    typeof observed.observedAt !== 'number' ||
    !Number.isFinite(observed.observedAt)
  ) {
    throw new CableError(
      'INVALID_ARGUMENT',
      `observed ${show(observed)} must be the observation a previous electGateway returned, or null`,
      { field: 'observed' },
    );
  }
  // An observation from the caller's future (its clock stepped back) counts from now, never later.
  return observed.record === record ? Math.min(observed.observedAt, t) : t;
}

/** When the lease stops protecting its holder (ms); -Infinity for a lease that was never renewed. */
export function leaseExpiry(lease: Lease): number {
  const base = parseTime(lease.renewTime, 'renewTime') ?? parseTime(lease.acquireTime, 'acquireTime');
  return base === null ? Number.NEGATIVE_INFINITY : base + lease.leaseDurationSeconds * 1000;
}

/**
 * Decides which candidate is the cluster's active gateway, from the candidates and the current Lease.
 * Pure: `now` is passed in. The lease is the only source of truth: a holder keeps the role while its
 * lease lives, and nobody else is chosen before it expires (or is released, see releaseLease), so no
 * two nodes ever hold it at once. The caller writes `lease` with compare-and-swap when the action is
 * renew, acquire or takeover.
 */
export function electGateway(
  candidates: readonly GatewayCandidate[],
  lease: LeaseSpec | null | undefined,
  now: number | Date,
  options: ElectionOptions = {},
): Election {
  const t = nowMs(now);
  const fraction = options.renewFraction ?? 0.5;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw new CableError('INVALID_ARGUMENT', `renewFraction ${show(fraction)} must be between 0 and 1`, {
      field: 'renewFraction',
    });
  }
  const current = normalise(lease, options.leaseDurationSeconds ?? DEFAULT_DURATION);
  const label = options.gatewayLabel === undefined ? GATEWAY_LABEL : options.gatewayLabel;
  const seen = new Set<string>();
  const eligible: string[] = [];
  if (!Array.isArray(candidates)) {
    throw new CableError('INVALID_ARGUMENT', 'candidates must be a list', { field: 'candidates' });
  }
  candidates.forEach((c, i) => {
    if (typeof c?.node !== 'string' || c.node === '' || typeof c.healthy !== 'boolean') {
      throw new CableError('INVALID_ARGUMENT', `candidates[${i}] needs a node name and a boolean healthy`, {
        field: `candidates[${i}]`,
      });
    }
    if (seen.has(c.node)) {
      throw new CableError('INVALID_ARGUMENT', `candidates[${i}].node ${show(c.node)} appears twice`, {
        field: `candidates[${i}].node`,
        value: c.node,
      });
    }
    seen.add(c.node);
    if (c.healthy && (label === null || c.labels?.[label.key] === label.value)) eligible.push(c.node);
  });
  eligible.sort();
  const holder = current.holderIdentity;
  const durationMs = current.leaseDurationSeconds * 1000;
  const record = leaseRecord(current);
  const seenAt = options.observed === undefined ? null : observedAt(options.observed, record, t);
  // Without an observation, trust the lease's times, but never a renewal later than now.
  const expiry = seenAt === null ? Math.min(leaseExpiry(current), t + durationMs) : seenAt + durationMs;
  const unchanged: LeaseObservation = { record, observedAt: seenAt ?? t };
  const holderEligible = holder !== null && eligible.includes(holder);

  if (holder !== null && t < expiry) {
    if (holderEligible) {
      const renewAt = expiry - durationMs + durationMs * fraction;
      if (t >= renewAt) {
        const renewed = { ...current, renewTime: formatMicroTime(t) };
        return {
          active: holder,
          action: 'renew',
          lease: renewed,
          nextActionAt: t + durationMs * fraction,
          reason: `${holder} holds the lease and is healthy; renew it`,
          observation: { record: leaseRecord(renewed), observedAt: t },
        };
      }
      return {
        active: holder,
        action: 'keep',
        lease: current,
        nextActionAt: renewAt,
        reason: `${holder} holds the lease and is healthy`,
        observation: unchanged,
      };
    }
    return {
      active: holder,
      action: 'wait',
      lease: current,
      nextActionAt: expiry,
      reason: `${holder} holds the lease but is ${seen.has(holder) ? 'not eligible' : 'no longer a candidate'}; nobody takes over before the lease expires at ${formatMicroTime(expiry)}`,
      observation: unchanged,
    };
  }
  if (eligible.length === 0) {
    return {
      active: null,
      action: 'none',
      lease: current,
      nextActionAt: null,
      reason: 'no healthy gateway candidate',
      observation: unchanged,
    };
  }
  // An expired holder that is still eligible takes the lease back: no needless transition.
  const next = holderEligible ? holder : eligible[0]!;
  const changed = next !== holder;
  const stamp = formatMicroTime(t);
  const written: Lease = {
    holderIdentity: next,
    leaseDurationSeconds: current.leaseDurationSeconds,
    acquireTime: changed ? stamp : (current.acquireTime ?? stamp),
    renewTime: stamp,
    leaseTransitions: current.leaseTransitions + (changed ? 1 : 0),
  };
  return {
    active: next,
    action: holder === null || !changed ? 'acquire' : 'takeover',
    lease: written,
    nextActionAt: t + durationMs * fraction,
    reason:
      holder === null
        ? `the lease is free; ${next} acquires it`
        : changed
          ? `the lease of ${holder} ${Number.isFinite(expiry) ? `expired at ${formatMicroTime(expiry)}` : 'was never renewed'}; ${next} takes over`
          : `the lease of ${holder} expired but it is still healthy; it acquires the lease again`,
    observation: { record: leaseRecord(written), observedAt: t },
  };
}

/**
 * The lease after `holder` gives it up (a gateway that knows it is unhealthy or is shutting down):
 * no holder, so the next electGateway hands it to a healthy candidate at once.
 */
export function releaseLease(lease: LeaseSpec, holder: string, now: number | Date): Lease {
  const t = nowMs(now);
  const current = normalise(lease, DEFAULT_DURATION);
  if (current.holderIdentity !== holder) {
    throw new CableError(
      'INVALID_LEASE',
      `${show(holder)} cannot release a lease held by ${show(current.holderIdentity)}`,
      { holder, holderIdentity: current.holderIdentity },
    );
  }
  return { ...current, holderIdentity: null, renewTime: formatMicroTime(t) };
}
