import type { Family } from './addr';
import { IpamError, show } from './errors';
import { parsePrefixResult } from './prefix';
import { compileSelector, type Labels } from './selector';
import type { LabelSelector, PoolSpec } from './spec';

/** A pool with live state (an allocator): selection reads its spec and drops it when nothing is free. */
export interface LivePool {
  readonly spec: PoolSpec;
  stats(): { readonly free: bigint };
}

/** What selectPools chooses among: plain specs, or live pools whose free count is checked. */
export type PoolCandidateSource = PoolSpec | LivePool;

/** Which rule supplied the pool names, highest priority first. */
export type PoolSelectionSource = 'pod' | 'namespace' | 'cluster-default';

export interface SelectPoolsRequest {
  /** The interface being configured, e.g. "eth0". */
  readonly nic: string;
  readonly family: Family;
  /** Pools named for this NIC and family by the pod annotation `ipam.spidernet.io/ippool(s)`. */
  readonly podPools?: readonly string[];
  /** Pools named by the namespace annotation `ipam.spidernet.io/default-ipv4-ippool` (or -ipv6-). */
  readonly namespaceDefaultPools?: readonly string[];
  readonly pod: {
    readonly name?: string;
    readonly namespace: string;
    readonly labels?: Labels;
  };
  readonly namespaceLabels?: Labels;
  readonly node: { readonly name: string; readonly labels?: Labels };
}

export type DropReason =
  | 'not-found'
  | 'disabled'
  | 'family'
  | 'pod-affinity'
  | 'node-name'
  | 'node-affinity'
  | 'namespace-name'
  | 'namespace-affinity'
  | 'exhausted';

export interface DroppedPool {
  readonly name: string;
  readonly reason: DropReason;
  /** A sentence naming the pool and why it was dropped. */
  readonly message: string;
}

export interface PoolSelection<P> {
  /** Which rule supplied the names. */
  readonly source: PoolSelectionSource;
  /** The usable pools, most specific affinity first. */
  readonly candidates: readonly P[];
  /** Every pool of the tier that is not a candidate, in tier order. */
  readonly dropped: readonly DroppedPool[];
  /** One line for logs and events, e.g. "no IPv4 pool for eth0 from the pod annotation: p1 dropped by node affinity". */
  explain(): string;
}

/** A pool of the input, validated once. */
interface Entry<P> {
  readonly pool: P;
  readonly spec: PoolSpec;
  readonly family: Family;
  readonly podAffinity: ((labels: Labels) => boolean) | undefined;
  readonly nodeAffinity: ((labels: Labels) => boolean) | undefined;
  readonly namespaceAffinity: ((labels: Labels) => boolean) | undefined;
}

const SOURCE_WORDS: Readonly<Record<PoolSelectionSource, string>> = {
  pod: 'the pod annotation',
  namespace: 'the namespace defaults',
  'cluster-default': 'the cluster defaults',
};

/** How explain() words each reason after the pool name. */
const REASON_WORDS: Readonly<Record<Exclude<DropReason, 'family'>, string>> = {
  'not-found': 'not found',
  disabled: 'disabled',
  'pod-affinity': 'dropped by pod affinity',
  'node-name': 'dropped by node name',
  'node-affinity': 'dropped by node affinity',
  'namespace-name': 'dropped by namespace name',
  'namespace-affinity': 'dropped by namespace affinity',
  exhausted: 'exhausted',
};

function isLive(pool: PoolCandidateSource): pool is LivePool {
  return typeof (pool as LivePool).stats === 'function' && typeof (pool as LivePool).spec === 'object';
}

function specOf(pool: PoolCandidateSource): PoolSpec {
  return isLive(pool) ? pool.spec : pool;
}

function badArgument(message: string, details: Record<string, unknown>): IpamError {
  return new IpamError('INVALID_ARGUMENT', message, details);
}

function checkRequest(request: SelectPoolsRequest): void {
  if (typeof request !== 'object' || request === null) {
    throw badArgument(`selectPools needs a request object, got ${show(request)}`, { value: request });
  }
  if (request.family !== 4 && request.family !== 6) {
    throw badArgument(`request family must be 4 or 6, got ${show(request.family)}`, {
      value: request.family,
    });
  }
  if (typeof request.nic !== 'string' || request.nic.length === 0) {
    throw badArgument(`request nic must be a non-empty string, got ${show(request.nic)}`, {
      value: request.nic,
    });
  }
  if (typeof request.pod?.namespace !== 'string') {
    throw badArgument(`request pod.namespace must be a string, got ${show(request.pod?.namespace)}`, {
      value: request.pod?.namespace,
    });
  }
  if (typeof request.node?.name !== 'string') {
    throw badArgument(`request node.name must be a string, got ${show(request.node?.name)}`, {
      value: request.node?.name,
    });
  }
}

function compileAffinity(
  name: string,
  field: string,
  selector: LabelSelector | undefined,
): ((labels: Labels) => boolean) | undefined {
  return selector === undefined ? undefined : compileSelector(selector, `pool ${show(name)} ${field}`);
}

/** Validate every input pool (subnet, selectors, unique names) before choosing anything. */
function indexPools<P extends PoolCandidateSource>(pools: readonly P[]): Map<string, Entry<P>> {
  if (!Array.isArray(pools)) throw badArgument(`pools must be a list, got ${show(pools)}`, { value: pools });
  const byName = new Map<string, Entry<P>>();
  for (const pool of pools) {
    const spec = typeof pool === 'object' && pool !== null ? specOf(pool) : undefined;
    if (typeof spec !== 'object' || spec === null || typeof spec.name !== 'string') {
      throw badArgument(`every pool needs a spec with a name, got ${show(pool)}`, { value: pool });
    }
    if (byName.has(spec.name)) {
      throw badArgument(`pool name ${show(spec.name)} appears twice in the pool list`, { pool: spec.name });
    }
    const subnet = parsePrefixResult(spec.subnet, { mask: true });
    if (subnet instanceof IpamError) {
      throw new IpamError('INVALID_PREFIX', `pool ${show(spec.name)} subnet: ${subnet.message}`, {
        ...subnet.details,
        pool: spec.name,
      });
    }
    byName.set(spec.name, {
      pool,
      spec,
      family: subnet.family,
      podAffinity: compileAffinity(spec.name, 'podAffinity', spec.podAffinity),
      nodeAffinity: compileAffinity(spec.name, 'nodeAffinity', spec.nodeAffinity),
      namespaceAffinity: compileAffinity(spec.name, 'namespaceAffinity', spec.namespaceAffinity),
    });
  }
  return byName;
}

function checkNames(names: readonly string[], source: PoolSelectionSource, nic: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string') {
      throw badArgument(`pool names from ${SOURCE_WORDS[source]} must be strings, got ${show(name)}`, {
        value: name,
        source,
      });
    }
    // Spiderpool rejects a pool named twice for one NIC as wrong input.
    if (seen.has(name)) {
      throw badArgument(`pool ${show(name)} is named twice by ${SOURCE_WORDS[source]} for ${nic}`, {
        pool: name,
        source,
        nic,
      });
    }
    seen.add(name);
  }
}

/** The first tier that names pools, and its names in tier order. */
function tierOf<P>(
  request: SelectPoolsRequest,
  byName: ReadonlyMap<string, Entry<P>>,
): { source: PoolSelectionSource; names: readonly string[] } {
  if (request.podPools !== undefined && request.podPools.length > 0) {
    return { source: 'pod', names: request.podPools };
  }
  if (request.namespaceDefaultPools !== undefined && request.namespaceDefaultPools.length > 0) {
    return { source: 'namespace', names: request.namespaceDefaultPools };
  }
  // Like Spiderpool's cluster defaults, only `default: true` pools of the requested family form the tier.
  const names: string[] = [];
  for (const [name, entry] of byName) {
    if (entry.spec.default === true && entry.family === request.family) names.push(name);
  }
  return { source: 'cluster-default', names };
}

function podWords(request: SelectPoolsRequest): string {
  const { name, namespace } = request.pod;
  return name === undefined ? `a pod in namespace ${show(namespace)}` : `pod ${show(`${namespace}/${name}`)}`;
}

/** Why the pool cannot serve this request, or undefined. Checks run in Spiderpool's order (selectByPod). */
function dropOf<P extends PoolCandidateSource>(
  entry: Entry<P>,
  request: SelectPoolsRequest,
): DroppedPool | undefined {
  const { spec } = entry;
  const name = spec.name;
  const pool = `pool ${show(name)}`;
  const drop = (reason: DropReason, message: string): DroppedPool => ({ name, reason, message });
  if (spec.disable === true) return drop('disabled', `${pool} is disabled`);
  if (entry.family !== request.family) {
    return drop(
      'family',
      `${pool} is IPv${entry.family} (subnet ${spec.subnet}), the request is for IPv${request.family}`,
    );
  }
  const node = request.node;
  // nodeName takes precedence: when it is set, nodeAffinity is not consulted (Spiderpool).
  if (spec.nodeName !== undefined && spec.nodeName.length > 0) {
    if (!spec.nodeName.includes(node.name)) {
      return drop(
        'node-name',
        `${pool} is limited to nodes ${JSON.stringify(spec.nodeName)}, not node ${show(node.name)}`,
      );
    }
  } else if (entry.nodeAffinity !== undefined && !entry.nodeAffinity(node.labels ?? {})) {
    return drop('node-affinity', `${pool} nodeAffinity does not match the labels of node ${show(node.name)}`);
  }
  const namespace = request.pod.namespace;
  // namespaceName likewise takes precedence over namespaceAffinity.
  if (spec.namespaceName !== undefined && spec.namespaceName.length > 0) {
    if (!spec.namespaceName.includes(namespace)) {
      return drop(
        'namespace-name',
        `${pool} is limited to namespaces ${JSON.stringify(spec.namespaceName)}, not namespace ${show(namespace)}`,
      );
    }
  } else if (
    entry.namespaceAffinity !== undefined &&
    !entry.namespaceAffinity(request.namespaceLabels ?? {})
  ) {
    return drop(
      'namespace-affinity',
      `${pool} namespaceAffinity does not match the labels of namespace ${show(namespace)}`,
    );
  }
  if (entry.podAffinity !== undefined && !entry.podAffinity(request.pod.labels ?? {})) {
    return drop('pod-affinity', `${pool} podAffinity does not match the labels of ${podWords(request)}`);
  }
  // Last, so that a pool excluded by its spec is reported for the spec and stats() runs only when needed.
  if (isLive(entry.pool) && entry.pool.stats().free === 0n) {
    return drop('exhausted', `${pool} has no free address`);
  }
  return undefined;
}

/**
 * How specific a pool's affinity is, as Spiderpool ranks it (pkg/ippoolmanager ByPoolPriority): podAffinity
 * outranks everything below it, then nodeName, nodeAffinity, namespaceName, namespaceAffinity. Each is one
 * bit, so comparing the numbers compares the flags lexicographically. A selector counts when present, even
 * if empty, as Spiderpool tests the pointer for nil.
 */
export function poolSpecificity(spec: PoolSpec): number {
  const named = (list: readonly string[] | undefined): boolean => list !== undefined && list.length > 0;
  return (
    (spec.podAffinity !== undefined ? 16 : 0) |
    (named(spec.nodeName) ? 8 : 0) |
    (spec.nodeAffinity !== undefined ? 4 : 0) |
    (named(spec.namespaceName) ? 2 : 0) |
    (spec.namespaceAffinity !== undefined ? 1 : 0)
  );
}

function reasonWords(dropped: DroppedPool, family: Family): string {
  return dropped.reason === 'family' ? `is IPv${family === 4 ? 6 : 4}` : REASON_WORDS[dropped.reason];
}

function explainSelection(
  request: SelectPoolsRequest,
  source: PoolSelectionSource,
  candidates: readonly string[],
  dropped: readonly DroppedPool[],
): string {
  const what = `IPv${request.family}`;
  const from = `for ${request.nic} from ${SOURCE_WORDS[source]}`;
  const drops = dropped.map((d) => `${d.name} ${reasonWords(d, request.family)}`).join(', ');
  if (candidates.length > 0) {
    return `${what} pools ${from}: ${candidates.join(', ')}${drops.length > 0 ? `; ${drops}` : ''}`;
  }
  if (dropped.length === 0) return `no ${what} pool ${from}: no ${what} pool has default: true`;
  return `no ${what} pool ${from}: ${drops}`;
}

/**
 * Choose the pools a pod's NIC may take an address from, following Spiderpool's IPAM:
 * 1. the names come from the first tier that has any: the pod annotation, the namespace default pools, or
 *    else every `default: true` pool of the requested family;
 * 2. each named pool is dropped when it is missing, disabled, of the other family, outside its nodeName /
 *    nodeAffinity, namespaceName / namespaceAffinity or podAffinity, or (live pools) has nothing free;
 * 3. the rest are sorted by affinity specificity (see poolSpecificity), keeping tier order among equals.
 *
 * Every input pool is validated first: a bad subnet throws INVALID_PREFIX, a bad selector INVALID_SELECTOR,
 * a duplicate name INVALID_ARGUMENT. An empty candidate list is a result, not an error; see selectPoolsOrThrow.
 */
export function selectPools<P extends PoolCandidateSource>(
  pools: readonly P[],
  request: SelectPoolsRequest,
): PoolSelection<P> {
  checkRequest(request);
  const byName = indexPools(pools);
  const { source, names } = tierOf(request, byName);
  checkNames(names, source, request.nic);

  const chosen: Entry<P>[] = [];
  const dropped: DroppedPool[] = [];
  for (const name of names) {
    const entry = byName.get(name);
    if (entry === undefined) {
      dropped.push({
        name,
        reason: 'not-found',
        message: `pool ${show(name)} named by ${SOURCE_WORDS[source]} does not exist`,
      });
      continue;
    }
    const drop = dropOf(entry, request);
    if (drop === undefined) chosen.push(entry);
    else dropped.push(drop);
  }
  // Spiderpool sorts every tier, the pod annotation's included (pkg/ipam/allocate.go sortPoolCandidates), but
  // collects the pools from a map first, so equals come out in random order. Array.prototype.sort is stable:
  // equals keep the tier's order, which is the annotation's "try in this order" backup order.
  chosen.sort((a, b) => poolSpecificity(b.spec) - poolSpecificity(a.spec));

  const candidates = Object.freeze(chosen.map((e) => e.pool));
  const candidateNames = chosen.map((e) => e.spec.name);
  Object.freeze(dropped);
  return Object.freeze({
    source,
    candidates,
    dropped,
    explain: () => explainSelection(request, source, candidateNames, dropped),
  });
}

/**
 * Like selectPools, but an empty candidate list throws IpamError NO_POOL_AVAILABLE whose message is
 * `explain()` and whose details carry the nic, family, source and dropped pools.
 */
export function selectPoolsOrThrow<P extends PoolCandidateSource>(
  pools: readonly P[],
  request: SelectPoolsRequest,
): PoolSelection<P> {
  const selection = selectPools(pools, request);
  if (selection.candidates.length === 0) {
    throw new IpamError('NO_POOL_AVAILABLE', selection.explain(), {
      nic: request.nic,
      family: request.family,
      source: selection.source,
      dropped: selection.dropped,
    });
  }
  return selection;
}
