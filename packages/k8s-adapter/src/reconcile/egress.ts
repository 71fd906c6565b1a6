// Egress blocks for GlobalEgressIP (namespace or pod-selector scope) and ClusterGlobalEgressIP.
import { type EgressScope, egressOwner, GlobalnetError, MAX_EGRESS_SIZE } from '@isthmus/globalnet-ipam';
import type { ClusterGlobalEgressIP, Condition, GlobalEgressIP, GlobalEgressIPStatus } from '../resources';
import { type Claim, canonicalAddr } from './claims';
import { sameConditions, setCondition } from './conditions';
import type { GlobalnetHolder } from './globalnet-holder';
import { canonicalJson } from './hash';
import type { Outbox } from './outbox';
import { createdOf, objectRef } from './refs';
import type { Store } from './store';

type EgressCR = GlobalEgressIP | ClusterGlobalEgressIP;

/** The condition type every egress CR carries. */
export const ALLOCATED = 'Allocated';

/** Store key of an egress CR: `GlobalEgressIP/<ns>/<name>` or `ClusterGlobalEgressIP/<name>`. */
export function egressKey(cr: EgressCR): string {
  return cr.kind === 'GlobalEgressIP'
    ? `GlobalEgressIP/${cr.metadata.namespace ?? ''}/${cr.metadata.name}`
    : `ClusterGlobalEgressIP/${cr.metadata.name}`;
}

/** The scope a CR asks for (namespace when it has no podSelector). */
export function scopeOf(cr: EgressCR): EgressScope {
  if (cr.kind === 'ClusterGlobalEgressIP') return { kind: 'cluster' };
  const namespace = cr.metadata.namespace ?? '';
  const sel = cr.spec?.podSelector;
  return sel === undefined
    ? { kind: 'namespace', namespace }
    : { kind: 'pods', namespace, name: cr.metadata.name, selector: sel };
}

/** numberOfIPs, or a reason it is refused (1..20; omitted: 1 for GlobalEgressIP, globalnet's 8 for the cluster). */
export function sizeOf(cr: EgressCR): { n: number | undefined } | { error: string } {
  const n: unknown = cr.spec?.numberOfIPs;
  if (n === undefined || n === null) return { n: cr.kind === 'GlobalEgressIP' ? 1 : undefined };
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_EGRESS_SIZE) {
    return { error: `numberOfIPs must be an integer from 1 to ${MAX_EGRESS_SIZE}, got ${JSON.stringify(n)}` };
  }
  return { n };
}

interface Held {
  readonly owner: string;
  readonly scope: EgressScope;
  readonly selector: string;
  readonly ips: readonly string[];
}

export class Egress {
  private readonly held = new Map<string, Held>();
  /** Owner key -> the CR key holding it (one CR per namespace scope, one cluster scope). */
  private readonly scopeHolder = new Map<string, string>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly holder: GlobalnetHolder,
  ) {}

  get count(): number {
    return this.held.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Brings one CR's allocation and status to its spec; a deleted CR releases its block. */
  sync(key: string, now: string, out: Outbox): void {
    const cr = this.store.egress.get(key);
    if (cr === undefined) {
      this.pending.delete(key);
      this.release(key);
      return;
    }
    const size = sizeOf(cr);
    if ('error' in size) {
      this.pending.delete(key);
      this.release(key);
      this.report(cr, [], { status: 'False', reason: 'InvalidNumberOfIPs', message: size.error }, now, out);
      return;
    }
    const scope = scopeOf(cr);
    const owner = egressOwner(scope);
    const selector = scope.kind === 'pods' ? canonicalJson(scope.selector) : '';
    const mine = this.held.get(key);
    if (mine !== undefined && (mine.owner !== owner || mine.selector !== selector)) this.release(key);
    const other = this.scopeHolder.get(owner);
    if (other !== undefined && other !== key) {
      this.pending.add(key);
      const message = `${owner} is held by ${other}; one ${scope.kind === 'cluster' ? 'ClusterGlobalEgressIP per cluster' : 'GlobalEgressIP without podSelector per namespace'}`;
      this.report(cr, [], { status: 'False', reason: 'ScopeInUse', message }, now, out);
      return;
    }
    const gn = this.holder.gn;
    if (gn === undefined) {
      this.pending.add(key);
      this.report(
        cr,
        [],
        {
          status: 'False',
          reason: 'NoGlobalCIDR',
          message: 'no global CIDR is allotted to this cluster yet',
        },
        now,
        out,
      );
      return;
    }
    try {
      const before = this.held.get(key)?.ips;
      const ips = gn.allocateEgress(scope, size.n);
      this.held.set(key, { owner, scope, selector, ips });
      this.scopeHolder.set(owner, key);
      this.pending.delete(key);
      if (before === undefined || before.join(',') !== ips.join(',')) this.holder.changed = true;
      const message = `${ips.length} global IP(s) allocated`;
      this.report(cr, ips, { status: 'True', reason: 'Allocated', message }, now, out);
    } catch (e) {
      const code = GlobalnetError.isInstance(e) ? e.code : 'ERROR';
      const reason =
        code === 'GLOBALNET_EXHAUSTED'
          ? 'GlobalnetExhausted'
          : code === 'INVALID_SELECTOR'
            ? 'InvalidSelector'
            : code === 'INVALID_EGRESS_SIZE'
              ? 'InvalidNumberOfIPs'
              : 'AllocationFailed';
      if (reason === 'GlobalnetExhausted') this.pending.add(key);
      else this.pending.delete(key);
      // A changed request that failed keeps nothing: the old block is released so status and allocator agree.
      this.release(key);
      this.report(
        cr,
        [],
        { status: 'False', reason, message: e instanceof Error ? e.message : String(e) },
        now,
        out,
      );
    }
  }

  retryPending(now: string, out: Outbox): void {
    for (const key of [...this.pending]) this.sync(key, now, out);
  }

  /** Blocks recorded in status.allocatedIPs by CRs whose spec is valid (restart recovery). */
  claims(out: Outbox): Claim[] {
    const claims: Claim[] = [];
    for (const [key, cr] of this.store.egress) {
      const recorded = cr.status?.allocatedIPs ?? [];
      if (recorded.length === 0 || 'error' in sizeOf(cr)) continue;
      const addresses = recorded.map((t) => canonicalAddr(String(t)));
      if (addresses.some((a) => a === undefined)) {
        out.problem(
          objectRef(cr.kind, cr),
          'InvalidStatus',
          `status.allocatedIPs ${JSON.stringify(recorded)} holds a value that is not an IP address; a new block follows`,
        );
        continue;
      }
      const scope = scopeOf(cr);
      claims.push({
        owner: egressOwner(scope),
        addresses: addresses as string[],
        ref: objectRef(cr.kind, cr),
        created: createdOf(cr),
        uid: cr.metadata.uid ?? '',
        key,
        ...(scope.kind === 'pods' ? { selector: scope.selector } : {}),
      });
    }
    return claims;
  }

  /** Records a block the restored allocator holds for the CR `key`. */
  adopt(key: string, owner: string, ips: readonly string[]): void {
    const cr = this.store.egress.get(key);
    if (cr === undefined) return;
    const scope = scopeOf(cr);
    this.held.set(key, {
      owner,
      scope,
      selector: scope.kind === 'pods' ? canonicalJson(scope.selector) : '',
      ips,
    });
    this.scopeHolder.set(owner, key);
  }

  reset(): void {
    this.held.clear();
    this.scopeHolder.clear();
  }

  private release(key: string): void {
    const mine = this.held.get(key);
    if (mine === undefined) return;
    this.held.delete(key);
    if (this.scopeHolder.get(mine.owner) === key) this.scopeHolder.delete(mine.owner);
    this.holder.gn?.releaseEgress(mine.scope);
    this.holder.released = true;
    this.holder.changed = true;
  }

  /** Writes the desired status when it differs; a changed False condition is also an Event. */
  private report(
    cr: EgressCR,
    ips: readonly string[],
    cond: Pick<Condition, 'status' | 'reason' | 'message'>,
    now: string,
    out: Outbox,
  ): void {
    const current: GlobalEgressIPStatus = cr.status ?? {};
    const conditions = setCondition(current.conditions, { type: ALLOCATED, ...cond, ...generation(cr) }, now);
    const sameIps = (current.allocatedIPs ?? []).join(',') === ips.join(',');
    if (sameIps && sameConditions(current.conditions, conditions)) return;
    const ref = objectRef(cr.kind, cr);
    if (cond.status === 'False' && !sameConditions(current.conditions, conditions))
      out.problem(ref, cond.reason, cond.message);
    out.status({ ref, status: { ...current, allocatedIPs: [...ips], conditions } });
  }
}

function generation(cr: EgressCR): { observedGeneration?: number } {
  return cr.metadata.generation !== undefined ? { observedGeneration: cr.metadata.generation } : {};
}
