// Global IPs inside one cluster's slice of the global range, over an @isthmus/ipam pool.
import {
  createPool,
  type Family,
  IpamError,
  type LabelSelector,
  type Pool,
  type PoolSpec,
  restorePool,
  tryParseAddr,
  updatePool,
  validateSelector,
} from '@isthmus/ipam';
import { addrOf, checkFamily, cidrOf } from './cidr';
import { GlobalnetError, show } from './errors';
import {
  type EgressScope,
  egressOwner,
  healthCheckOwner,
  type IngressTarget,
  ingressOwner,
  parseOwner,
} from './owners';

/** Largest egress block (Submariner's numberOfIPs maximum). */
export const MAX_EGRESS_SIZE = 20;
/** Default block of the cluster egress scope (Submariner ClusterGlobalEgressIP numberOfIPs). */
export const DEFAULT_CLUSTER_EGRESS_SIZE = 8;
/** Default block of namespace and pod-selector scopes (Submariner GlobalEgressIP numberOfIPs). */
export const DEFAULT_SCOPE_EGRESS_SIZE = 1;

export interface GlobalnetSpec {
  /** The cluster's global CIDR (its slice of the global range), e.g. 242.0.0.0/16. IPv6: /64 or longer. */
  readonly globalCidr: string;
  /** Block size of the cluster scope when allocateEgress is not given one; default 8. */
  readonly clusterEgressSize?: number;
  /** Block size of namespace and pod-selector scopes when allocateEgress is not given one; default 1. */
  readonly scopeEgressSize?: number;
}

export interface IngressAllocation {
  readonly owner: string;
  readonly target: IngressTarget;
  readonly globalIp: string;
}

export interface EgressAllocation {
  readonly owner: string;
  readonly scope: EgressScope;
  /** The block, in address order (contiguous). */
  readonly globalIps: readonly string[];
}

export interface HealthCheckAllocation {
  readonly owner: string;
  readonly gateway: string;
  readonly globalIp: string;
}

/** Like @isthmus/ipam's PoolStats: total and free are bigint, exact for an IPv6 /64 (2^64 - 1 addresses). */
export interface GlobalnetStats {
  /** Addresses that can be handed out (not the IPv4 network/broadcast or IPv6 subnet-router anycast address). */
  readonly total: bigint;
  /** Addresses held by owners. */
  readonly allocated: number;
  /** total - allocated. */
  readonly free: bigint;
  /** Owner keys holding addresses. */
  readonly owners: number;
}

/** What a controller records (in annotations and status) to rebuild the allocator after a restart. */
export interface GlobalnetSnapshot {
  readonly version: 1;
  readonly globalCidr: string;
  /** `[owner, addresses]` in address order (the @isthmus/ipam pool snapshot format). */
  readonly allocations: ReadonlyArray<readonly [owner: string, addresses: string]>;
  /** The label selector of each pod-selector egress scope, by owner. */
  readonly selectors: ReadonlyArray<readonly [owner: string, selector: LabelSelector]>;
}

export type GlobalnetConflictReason =
  | 'invalid-entry'
  | 'unknown-owner'
  | 'wrong-size'
  | 'duplicate-owner'
  | 'duplicate-address'
  | 'out-of-range'
  | 'missing-selector'
  | 'invalid-selector'
  | 'orphan-selector'
  | 'global-cidr-mismatch';

export interface GlobalnetConflict {
  readonly reason: GlobalnetConflictReason;
  readonly owner?: string;
  readonly address?: string;
  readonly heldBy?: string;
  /** The global CIDR the snapshot recorded (global-cidr-mismatch). */
  readonly globalCidr?: string;
  readonly message: string;
}

/** Global IPs of one cluster. Allocation is idempotent per owner; a call that throws changes nothing. */
export interface Globalnet {
  readonly spec: GlobalnetSpec;
  readonly globalCidr: string;
  readonly family: Family;
  /** One global IP for a service, a headless service's pod, or a selector-less headless endpoint. */
  allocateIngress(target: IngressTarget): string;
  releaseIngress(target: IngressTarget): string[];
  /**
   * A block of `n` global IPs (1 to 20) for an egress scope. Asking again with the same n returns the same
   * block; another n re-allocates the scope's block. A pod-selector scope's selector is replaced each call.
   */
  allocateEgress(scope: EgressScope, n?: number): string[];
  releaseEgress(scope: EgressScope): string[];
  /** One global IP per gateway for health checks. */
  allocateHealthCheck(gateway: string): string;
  releaseHealthCheck(gateway: string): string[];
  ownerOf(globalIp: string): string | undefined;
  /** Every ingress allocation, in address order. */
  ingress(): IngressAllocation[];
  /** Every egress block with its scope (pod-selector scopes with their selector), in address order. */
  egress(): EgressAllocation[];
  healthChecks(): HealthCheckAllocation[];
  stats(): GlobalnetStats;
  snapshot(): GlobalnetSnapshot;
}

const POOL_NAME = 'globalnet';

function poolSpecOf(spec: GlobalnetSpec): PoolSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new GlobalnetError('INVALID_ARGUMENT', `a globalnet spec must be an object, got ${show(spec)}`, {
      value: spec,
    });
  }
  const cidr = cidrOf(spec.globalCidr, 'globalCidr');
  if (cidr.family === 6 && cidr.bits < 64) {
    throw new GlobalnetError('INVALID_CIDR', `globalCidr ${cidr} is too large: use an IPv6 /64 or longer`, {
      field: 'globalCidr',
      value: spec.globalCidr,
    });
  }
  for (const field of ['clusterEgressSize', 'scopeEgressSize'] as const) {
    if (spec[field] !== undefined) checkEgressSize(spec[field], field);
  }
  return { name: POOL_NAME, subnet: cidr.toString() };
}

function checkEgressSize(n: unknown, field: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_EGRESS_SIZE) {
    throw new GlobalnetError(
      'INVALID_EGRESS_SIZE',
      `${field} ${show(n)} must be an integer from 1 to ${MAX_EGRESS_SIZE}`,
      { field, value: n, max: MAX_EGRESS_SIZE },
    );
  }
}

function fromPool(e: unknown, what: string): unknown {
  if (!IpamError.isInstance(e)) return e;
  if (e.code === 'POOL_EXHAUSTED' || e.code === 'NO_CONTIGUOUS_BLOCK') {
    return new GlobalnetError('GLOBALNET_EXHAUSTED', `no global IPs left for ${what}: ${e.message}`, {
      owner: what,
      cause: e.code,
      ...e.details,
    });
  }
  if (e.code === 'OWNER_CONFLICT') return new GlobalnetError('OWNER_CONFLICT', e.message, { ...e.details });
  return new GlobalnetError('INVALID_ARGUMENT', e.message, { cause: e.code, ...e.details });
}

function freezeSelector(selector: LabelSelector): LabelSelector {
  const copy = structuredClone(selector) as LabelSelector;
  const deep = (v: unknown): void => {
    if (typeof v === 'object' && v !== null) {
      for (const x of Object.values(v)) deep(x);
      Object.freeze(v);
    }
  };
  deep(copy);
  return copy;
}

function checkSelector(selector: unknown, where: string): LabelSelector {
  try {
    validateSelector(selector as LabelSelector);
  } catch (e) {
    const why = IpamError.isInstance(e) ? e.message : String(e);
    throw new GlobalnetError('INVALID_SELECTOR', `${where}: ${why}`, { value: selector, where });
  }
  return selector as LabelSelector;
}

// Instances made here, so updateGlobalnet can refuse look-alikes it cannot reach into.
const instances = new WeakSet<object>();

class GlobalnetImpl implements Globalnet {
  readonly spec: GlobalnetSpec;
  readonly globalCidr: string;
  readonly family: Family;
  private pool: Pool;
  private readonly selectors: Map<string, LabelSelector>;

  constructor(spec: GlobalnetSpec, pool: Pool, selectors: Map<string, LabelSelector>) {
    this.spec = Object.freeze({ ...spec });
    this.pool = pool;
    this.globalCidr = pool.subnet.toString();
    this.family = pool.family;
    this.selectors = selectors;
    instances.add(this);
  }

  allocateIngress(target: IngressTarget): string {
    const owner = ingressOwner(target);
    if (target.kind === 'endpoint') {
      checkFamily(
        addrOf(target.address, 'endpoint address'),
        this.family,
        'endpoint address',
        `globalCidr ${this.globalCidr}`,
      );
    }
    try {
      return this.pool.allocate(owner).toString();
    } catch (e) {
      throw fromPool(e, owner);
    }
  }

  releaseIngress(target: IngressTarget): string[] {
    return this.pool.release(ingressOwner(target)).map(String);
  }

  allocateEgress(scope: EgressScope, n?: number): string[] {
    const owner = egressOwner(scope);
    // Only an omitted n means the default: null, '8' or NaN are caller bugs, reported below.
    const size =
      n !== undefined
        ? n
        : scope.kind === 'cluster'
          ? (this.spec.clusterEgressSize ?? DEFAULT_CLUSTER_EGRESS_SIZE)
          : (this.spec.scopeEgressSize ?? DEFAULT_SCOPE_EGRESS_SIZE);
    checkEgressSize(size, `egress block size for ${owner}`);
    const selector =
      scope.kind === 'pods'
        ? freezeSelector(checkSelector(scope.selector, `pod selector of ${owner}`))
        : undefined;
    const held = this.pool.addressesOf(owner);
    let block: string[];
    if (held.length === size) {
      block = held.map(String);
    } else {
      // A new size re-allocates the block; on failure the old block goes back, so nothing changes.
      if (held.length > 0) this.pool.release(owner);
      try {
        block = this.pool.allocateBlock(owner, size).map(String);
      } catch (e) {
        if (held.length > 0) this.pool.reserve(owner, held);
        throw fromPool(e, owner);
      }
    }
    if (selector !== undefined) this.selectors.set(owner, selector);
    return block;
  }

  releaseEgress(scope: EgressScope): string[] {
    const owner = egressOwner(scope);
    this.selectors.delete(owner);
    return this.pool.release(owner).map(String);
  }

  allocateHealthCheck(gateway: string): string {
    const owner = healthCheckOwner(gateway);
    try {
      return this.pool.allocate(owner).toString();
    } catch (e) {
      throw fromPool(e, owner);
    }
  }

  releaseHealthCheck(gateway: string): string[] {
    return this.pool.release(healthCheckOwner(gateway)).map(String);
  }

  ownerOf(globalIp: string): string | undefined {
    return this.pool.ownerOf(addrOf(globalIp, 'global IP'));
  }

  ingress(): IngressAllocation[] {
    const out: IngressAllocation[] = [];
    for (const [owner, addrs] of this.pool.allocations()) {
      const o = parseOwner(owner);
      if (o?.role === 'ingress') out.push({ owner, target: o.target, globalIp: addrs[0]!.toString() });
    }
    return out;
  }

  egress(): EgressAllocation[] {
    const out: EgressAllocation[] = [];
    for (const [owner, addrs] of this.pool.allocations()) {
      const o = parseOwner(owner);
      if (o?.role !== 'egress') continue;
      const scope: EgressScope =
        o.scope.kind === 'pods' ? { ...o.scope, selector: this.selectors.get(owner)! } : o.scope;
      out.push({ owner, scope, globalIps: addrs.map(String) });
    }
    return out;
  }

  healthChecks(): HealthCheckAllocation[] {
    const out: HealthCheckAllocation[] = [];
    for (const [owner, addrs] of this.pool.allocations()) {
      const o = parseOwner(owner);
      if (o?.role === 'health') out.push({ owner, gateway: o.gateway, globalIp: addrs[0]!.toString() });
    }
    return out;
  }

  stats(): GlobalnetStats {
    const s = this.pool.stats();
    return { total: s.total, allocated: s.allocated, free: s.free, owners: s.owners };
  }

  snapshot(): GlobalnetSnapshot {
    const selectors = [...this.selectors.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([owner, sel]) => [owner, structuredClone(sel) as LabelSelector] as const);
    return {
      version: 1,
      globalCidr: this.globalCidr,
      allocations: this.pool.snapshot().allocations,
      selectors,
    };
  }

  /** @internal The pool under a new spec (updateGlobalnet). */
  withPool(spec: GlobalnetSpec, pool: Pool): GlobalnetImpl {
    return new GlobalnetImpl(spec, pool, new Map(this.selectors));
  }

  /** @internal */
  currentPool(): Pool {
    return this.pool;
  }
}

/** An empty allocator over the cluster's global CIDR (network and broadcast addresses are never handed out). */
export function createGlobalnet(spec: GlobalnetSpec): Globalnet {
  const poolSpec = poolSpecOf(spec);
  return new GlobalnetImpl(spec, createPool(poolSpec), new Map());
}

/**
 * The allocator under a new spec (a grown or shrunk global CIDR), every allocation kept. A global CIDR that
 * no longer holds every allocated address is GLOBAL_CIDR_TOO_SMALL, listing them; the original is unchanged.
 */
export function updateGlobalnet(globalnet: Globalnet, spec: GlobalnetSpec): Globalnet {
  if (typeof globalnet !== 'object' || globalnet === null || !instances.has(globalnet)) {
    const text = show(globalnet);
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `updateGlobalnet needs a Globalnet from createGlobalnet or restoreGlobalnet, got ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`,
      { field: 'globalnet', value: globalnet },
    );
  }
  const poolSpec = poolSpecOf(spec);
  const impl = globalnet as GlobalnetImpl;
  const from = impl.currentPool();
  if (from.family !== cidrOf(spec.globalCidr, 'globalCidr').family) {
    throw new GlobalnetError(
      'FAMILY_MISMATCH',
      `globalCidr ${spec.globalCidr} is not of the same family as ${globalnet.globalCidr}`,
      { field: 'globalCidr', value: spec.globalCidr, current: globalnet.globalCidr },
    );
  }
  try {
    return impl.withPool(spec, updatePool(from, poolSpec));
  } catch (e) {
    if (IpamError.isInstance(e) && e.code === 'ADDRESSES_STILL_IN_USE') {
      const addresses = (e.details.addresses ?? []) as Array<{ address: string; owner: string }>;
      throw new GlobalnetError(
        'GLOBAL_CIDR_TOO_SMALL',
        `globalCidr ${spec.globalCidr} leaves out ${addresses.length} allocated global IP(s): ${addresses
          .slice(0, 10)
          .map((a) => `${a.address} (${a.owner})`)
          .join(', ')}${addresses.length > 10 ? ', ...' : ''}`,
        { field: 'globalCidr', value: spec.globalCidr, addresses },
      );
    }
    throw e;
  }
}

function countOf(text: string): number | undefined {
  if (text.includes(',')) return text.split(',').length;
  const dash = text.indexOf('-');
  if (dash < 0) return 1;
  try {
    const a = addrOf(text.slice(0, dash), 'from').toBigInt();
    const b = addrOf(text.slice(dash + 1), 'to').toBigInt();
    return b >= a ? Number(b - a + 1n) : undefined;
  } catch {
    return undefined;
  }
}

function checkEntries(snapshot: GlobalnetSnapshot, family: Family): GlobalnetConflict[] {
  const conflicts: GlobalnetConflict[] = [];
  const selectorOwners = new Map<string, unknown>();
  for (const entry of snapshot.selectors ?? []) {
    const [owner, selector] = Array.isArray(entry) ? entry : [];
    if (typeof owner !== 'string') {
      conflicts.push({
        reason: 'invalid-entry',
        message: `selector entry ${show(entry)} is not [owner, selector]`,
      });
      continue;
    }
    if (selectorOwners.has(owner)) {
      conflicts.push({
        reason: 'duplicate-owner',
        owner,
        message: `selector of ${show(owner)} is recorded more than once`,
      });
      continue;
    }
    selectorOwners.set(owner, selector);
  }
  const egressPods = new Set<string>();
  for (const entry of snapshot.allocations) {
    const [owner, text] = Array.isArray(entry) ? entry : [];
    if (typeof owner !== 'string' || typeof text !== 'string') continue; // the pool reports these
    const o = parseOwner(owner);
    if (o === undefined) {
      conflicts.push({
        reason: 'unknown-owner',
        owner,
        message: `owner ${show(owner)} is not a globalnet owner key`,
      });
      continue;
    }
    if (o.role === 'ingress' && o.target.kind === 'endpoint') {
      // allocateIngress only makes keys with a canonical address of the global CIDR's family.
      const a = tryParseAddr(o.target.address);
      if (a === undefined || a.family !== family || a.toString() !== o.target.address) {
        conflicts.push({
          reason: 'invalid-entry',
          owner,
          message: `owner ${show(owner)} does not name a canonical IPv${family} endpoint address`,
        });
      }
    }
    const n = countOf(text);
    if (n === undefined) continue;
    if (o.role !== 'egress' && n !== 1) {
      conflicts.push({
        reason: 'wrong-size',
        owner,
        message: `owner ${show(owner)} holds ${n} addresses (${text}); an ingress or health-check owner holds one`,
      });
    } else if (o.role === 'egress' && (n > MAX_EGRESS_SIZE || text.includes(','))) {
      conflicts.push({
        reason: 'wrong-size',
        owner,
        message: `egress owner ${show(owner)} holds ${text}; a scope holds one contiguous block of 1 to ${MAX_EGRESS_SIZE}`,
      });
    }
    if (o.role === 'egress' && o.scope.kind === 'pods') {
      egressPods.add(owner);
      if (!selectorOwners.has(owner)) {
        conflicts.push({
          reason: 'missing-selector',
          owner,
          message: `pod-selector scope ${show(owner)} has no selector`,
        });
      } else {
        try {
          checkSelector(selectorOwners.get(owner), `pod selector of ${owner}`);
        } catch (e) {
          conflicts.push({ reason: 'invalid-selector', owner, message: (e as Error).message });
        }
      }
    }
  }
  for (const owner of selectorOwners.keys()) {
    if (!egressPods.has(owner)) {
      conflicts.push({
        reason: 'orphan-selector',
        owner,
        message: `selector of ${show(owner)} belongs to no pod-selector egress allocation`,
      });
    }
  }
  return conflicts;
}

/**
 * The snapshot's recorded global CIDR against the spec's. Another CIDR of the same family that holds every
 * allocation is allowed (the controller restarts after the CIDR grew, as updateGlobalnet allows); a change
 * of family, an invalid CIDR, or one that leaves allocations out (already listed as out-of-range) is a conflict.
 */
function checkRecordedCidr(
  recorded: unknown,
  subnet: string,
  conflicts: readonly GlobalnetConflict[],
): GlobalnetConflict | undefined {
  let cidr: ReturnType<typeof cidrOf>;
  try {
    cidr = cidrOf(recorded, 'snapshot globalCidr');
  } catch (e) {
    return { reason: 'invalid-entry', message: (e as Error).message };
  }
  const text = cidr.toString();
  if (text === subnet) return undefined;
  const family = cidrOf(subnet, 'globalCidr').family;
  const outside = conflicts.filter((c) => c.reason === 'out-of-range').length;
  if (cidr.family === family && outside === 0) return undefined;
  return {
    reason: 'global-cidr-mismatch',
    globalCidr: text,
    message:
      cidr.family !== family
        ? `snapshot globalCidr ${text} is IPv${cidr.family} but the spec's globalCidr ${subnet} is IPv${family}`
        : `snapshot globalCidr ${text} differs from the spec's globalCidr ${subnet}, which leaves out ${outside} allocation(s)`,
  };
}

/**
 * Rebuild the allocator from a snapshot (what a controller recorded in annotations and status). Every
 * conflict (an address claimed twice, an owner twice, an address outside the global CIDR, a block of the
 * wrong size, an unknown owner key, a missing or invalid selector) is reported in one SNAPSHOT_CONFLICT
 * whose `details.conflicts` lists them all; nothing is handed out twice. A snapshot recorded over another
 * global CIDR of the same family restores under the spec's CIDR when that holds every allocation (it grew);
 * otherwise a global-cidr-mismatch conflict names both CIDRs.
 */
export function restoreGlobalnet(spec: GlobalnetSpec, snapshot: GlobalnetSnapshot): Globalnet {
  const poolSpec = poolSpecOf(spec);
  const s = snapshot as GlobalnetSnapshot | null;
  if (typeof s !== 'object' || s === null || s.version !== 1 || !Array.isArray(s.allocations)) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      'snapshot must be { version: 1, globalCidr, allocations: [...], selectors: [...] }',
      { value: typeof s === 'object' && s !== null ? { version: s.version } : s },
    );
  }
  if (s.selectors !== undefined && !Array.isArray(s.selectors)) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `snapshot selectors must be a list, got ${show(s.selectors)}`,
      {
        field: 'selectors',
        value: s.selectors,
      },
    );
  }
  const conflicts = checkEntries(s, cidrOf(poolSpec.subnet, 'globalCidr').family);
  let pool: Pool | undefined;
  try {
    pool = restorePool(poolSpec, {
      version: 1,
      pool: POOL_NAME,
      subnet: poolSpec.subnet,
      allocations: s.allocations,
    });
  } catch (e) {
    if (!IpamError.isInstance(e) || e.code !== 'SNAPSHOT_CONFLICT') throw e;
    for (const c of e.details.conflicts as ReadonlyArray<Record<string, string>>) {
      const reason = c.reason === 'out-of-pool' ? 'out-of-range' : (c.reason as GlobalnetConflictReason);
      conflicts.push({
        reason,
        ...(c.owner !== undefined ? { owner: c.owner } : {}),
        ...(c.address !== undefined ? { address: c.address } : {}),
        ...(c.heldBy !== undefined ? { heldBy: c.heldBy } : {}),
        message: reason === 'out-of-range' ? `${c.message} (globalCidr ${poolSpec.subnet})` : c.message!,
      });
    }
  }
  const cidrConflict = checkRecordedCidr(s.globalCidr, poolSpec.subnet, conflicts);
  if (cidrConflict !== undefined) conflicts.unshift(cidrConflict);
  if (conflicts.length > 0 || pool === undefined) {
    const head = conflicts
      .slice(0, 5)
      .map((c) => c.message)
      .join('; ');
    throw new GlobalnetError(
      'SNAPSHOT_CONFLICT',
      `cannot restore globalnet ${poolSpec.subnet}: ${conflicts.length} conflict(s): ${head}${conflicts.length > 5 ? `; and ${conflicts.length - 5} more` : ''}`,
      { globalCidr: poolSpec.subnet, conflicts },
    );
  }
  const selectors = new Map<string, LabelSelector>();
  for (const [owner, sel] of s.selectors ?? []) selectors.set(owner, freezeSelector(sel));
  return new GlobalnetImpl(spec, pool, selectors);
}
