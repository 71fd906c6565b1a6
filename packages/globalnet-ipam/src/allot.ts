// Cluster allotment, the broker's job: pure functions over the plain cluster -> CIDRs record a
// controller keeps in a ConfigMap or CR (netipx RemoveFreePrefix style: the record in, a new record out).
import { Addr, Prefix } from '@isthmus/ipam';
import { checkFamily, cidrOf, lowestFreeAligned, spanOf, widthOf } from './cidr';
import { GlobalnetError, show } from './errors';

/** Cluster id -> the CIDRs it holds (any number of ranges, both families), as plain JSON. */
export type ClusterAllotments = Readonly<Record<string, readonly string[]>>;

/** Submariner Globalnet's default global range. */
export const DEFAULT_GLOBAL_RANGE = '242.0.0.0/8';
/** Submariner Globalnet's default number of global IPs per cluster. */
export const DEFAULT_CLUSTER_SIZE = 65_536;
/** Default IPv6 allotment: one /64 per cluster. */
export const DEFAULT_CLUSTER_BITS_V6 = 64;

export interface AllocateClusterCidrOptions {
  /** The range to allot from; default 242.0.0.0/8. */
  readonly range?: string;
  /**
   * Addresses per cluster, rounded up to a power of two, at most half the range. Default 65,536 for IPv4,
   * a /64 for IPv6. A bigint is accepted for IPv6 sizes above 2^53.
   */
  readonly size?: number | bigint;
  /** An explicit CIDR the cluster asks for, inside the range; checked for overlap with every other cluster. */
  readonly cidr?: string;
}

export interface ClusterCidrResult {
  /** The new record (the input is never changed); keys and CIDR lists sorted. */
  readonly allotments: ClusterAllotments;
  /** The cluster's CIDR in the range. */
  readonly cidr: string;
  /** False when the cluster already held it. */
  readonly changed: boolean;
}

export interface ReleaseClusterCidrOptions {
  /** Release only the CIDRs inside this range; default 242.0.0.0/8. */
  readonly range?: string;
}

export interface ReleaseClusterCidrResult {
  readonly allotments: ClusterAllotments;
  readonly released: readonly string[];
}

interface Parsed {
  readonly cluster: string;
  readonly prefixes: readonly Prefix[];
}

function checkClusterId(clusterId: unknown): asserts clusterId is string {
  if (typeof clusterId !== 'string' || clusterId.length === 0) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `cluster id must be a non-empty string, got ${show(clusterId)}`,
      {
        field: 'clusterId',
        value: clusterId,
      },
    );
  }
}

function checkOptions(opts: unknown): void {
  if (typeof opts !== 'object' || opts === null) {
    throw new GlobalnetError('INVALID_ARGUMENT', `options must be an object, got ${show(opts)}`, {
      field: 'opts',
      value: opts,
    });
  }
}

function parseAllotments(allotments: ClusterAllotments): Parsed[] {
  if (typeof allotments !== 'object' || allotments === null || Array.isArray(allotments)) {
    throw new GlobalnetError(
      'INVALID_ALLOTMENTS',
      `allotments must be a record of cluster id -> CIDR list, got ${show(allotments)}`,
      { value: allotments },
    );
  }
  return Object.keys(allotments)
    .sort()
    .map((cluster) => {
      const list: unknown = allotments[cluster];
      if (!Array.isArray(list)) {
        throw new GlobalnetError(
          'INVALID_ALLOTMENTS',
          `allotments[${show(cluster)}] must be a list of CIDRs, got ${show(list)}`,
          { cluster, value: list },
        );
      }
      const prefixes = list.map((text: unknown) => {
        try {
          return cidrOf(text, `allotments[${show(cluster)}]`);
        } catch (e) {
          throw new GlobalnetError('INVALID_ALLOTMENTS', (e as Error).message, { cluster, value: text });
        }
      });
      return { cluster, prefixes };
    });
}

/** A record whose CIDRs in the range already overlap is corrupt: allotting from it would spread the damage. */
function checkDisjoint(parsed: readonly Parsed[], range: Prefix): void {
  const spans = parsed
    .flatMap(({ cluster, prefixes }) =>
      prefixes.filter((p) => p.overlaps(range)).map((p) => ({ cluster, p, span: spanOf(p) })),
    )
    .sort((a, b) => (a.span[0] < b.span[0] ? -1 : a.span[0] > b.span[0] ? 1 : 0));
  for (let i = 1; i < spans.length; i++) {
    const [x, y] = [spans[i - 1]!, spans[i]!];
    if (y.span[0] <= x.span[1]) {
      throw new GlobalnetError(
        'INVALID_ALLOTMENTS',
        `allotments overlap: ${x.p} (cluster ${show(x.cluster)}) and ${y.p} (cluster ${show(y.cluster)})`,
        { clusters: [x.cluster, y.cluster], value: [x.p.toString(), y.p.toString()] },
      );
    }
  }
}

function toRecord(parsed: readonly Parsed[]): ClusterAllotments {
  const out: Record<string, string[]> = {};
  for (const { cluster, prefixes } of [...parsed].sort((a, b) => (a.cluster < b.cluster ? -1 : 1))) {
    if (prefixes.length === 0) continue;
    out[cluster] = [...prefixes].sort((a, b) => a.compare(b)).map(String);
  }
  return out;
}

/** The prefix length for `size` addresses in `range` (rounded up to a power of two). */
function bitsForSize(range: Prefix, size: number | bigint | undefined): number {
  const width = widthOf(range.family);
  if (size === undefined)
    return range.family === 4 ? width - Math.log2(DEFAULT_CLUSTER_SIZE) : DEFAULT_CLUSTER_BITS_V6;
  const n = typeof size === 'number' && Number.isInteger(size) ? BigInt(size) : size;
  if (typeof n !== 'bigint' || n < 1n) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `size ${show(size)} must be a positive integer number of addresses`,
      {
        field: 'size',
        value: typeof size === 'bigint' ? size.toString() : size,
      },
    );
  }
  let hostBits = 0;
  while (1n << BigInt(hostBits) < n) hostBits++;
  if (hostBits > width - range.bits - 1) {
    throw new GlobalnetError(
      'BLOCK_TOO_LARGE',
      `size ${n} is more than half of range ${range} (${range.size()} addresses); the largest block is ${range.size() / 2n}`,
      { field: 'size', value: n.toString(), range: range.toString(), max: (range.size() / 2n).toString() },
    );
  }
  return width - hostBits;
}

/**
 * Allot a global CIDR to a cluster: the lowest aligned free block of the range, or the explicit `cidr`
 * asked for (CIDR_OVERLAP names the cluster holding it). A cluster that already holds a CIDR in the range
 * gets it back (ALREADY_ALLOTTED when it asks for another one: release first). Pure; the input is never
 * changed. Serves any range of either family (242.0.0.0/8, a clusterset IP range, an IPv6 ULA /48).
 */
export function allocateClusterCidr(
  allotments: ClusterAllotments,
  clusterId: string,
  opts: AllocateClusterCidrOptions = {},
): ClusterCidrResult {
  checkClusterId(clusterId);
  checkOptions(opts);
  const range = cidrOf(opts.range ?? DEFAULT_GLOBAL_RANGE, 'range');
  const parsed = parseAllotments(allotments);
  let wanted: Prefix | undefined;
  let bits: number;
  if (opts.cidr !== undefined) {
    wanted = cidrOf(opts.cidr, 'cidr');
    checkFamily(wanted, range.family, 'cidr', `range ${range}`);
    if (!range.contains(wanted)) {
      throw new GlobalnetError('OUT_OF_RANGE', `cidr ${wanted} is not inside range ${range}`, {
        field: 'cidr',
        value: wanted.toString(),
        range: range.toString(),
      });
    }
    bits = wanted.bits;
    if (opts.size !== undefined && bitsForSize(range, opts.size) !== bits) {
      throw new GlobalnetError('INVALID_ARGUMENT', `size ${show(opts.size)} does not match cidr ${wanted}`, {
        field: 'size',
        value: String(opts.size),
        cidr: wanted.toString(),
      });
    }
    bitsForSize(range, wanted.size());
  } else {
    bits = bitsForSize(range, opts.size);
  }
  checkDisjoint(parsed, range);
  const mine = parsed.find((p) => p.cluster === clusterId);
  const held = mine?.prefixes.find((p) => p.overlaps(range));
  if (held !== undefined) {
    const mismatch =
      wanted !== undefined ? !held.equals(wanted) : opts.size !== undefined && held.bits !== bits;
    if (mismatch) {
      const asked = wanted !== undefined ? String(wanted) : `a /${bits}`;
      throw new GlobalnetError(
        'ALREADY_ALLOTTED',
        `cluster ${show(clusterId)} already holds ${held} in range ${range}; release it before asking for ${asked}`,
        { cluster: clusterId, held: held.toString(), range: range.toString() },
      );
    }
    return { allotments: toRecord(parsed), cidr: held.toString(), changed: false };
  }
  const others = parsed.filter((p) => p.cluster !== clusterId);
  let chosen: Prefix;
  if (wanted !== undefined) {
    for (const o of others) {
      const hit = o.prefixes.find((p) => p.overlaps(wanted));
      if (hit !== undefined) {
        throw new GlobalnetError(
          'CIDR_OVERLAP',
          `cidr ${wanted} overlaps ${hit}, held by cluster ${show(o.cluster)}`,
          {
            cidr: wanted.toString(),
            cluster: o.cluster,
            held: hit.toString(),
          },
        );
      }
    }
    chosen = wanted;
  } else {
    const taken = others
      .flatMap((o) => o.prefixes.filter((p) => p.overlaps(range)).map(spanOf))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const start = lowestFreeAligned(range, bits, taken);
    if (start === undefined) {
      throw new GlobalnetError(
        'RANGE_EXHAUSTED',
        `range ${range} has no free /${bits} left for cluster ${show(clusterId)} (${others.length} other clusters hold CIDRs)`,
        { range: range.toString(), bits, cluster: clusterId },
      );
    }
    chosen = Prefix.from(Addr.fromBigInt(range.family, start), bits);
  }
  const next = parsed.map((p) =>
    p.cluster === clusterId ? { cluster: p.cluster, prefixes: [...p.prefixes, chosen] } : p,
  );
  if (mine === undefined) next.push({ cluster: clusterId, prefixes: [chosen] });
  return { allotments: toRecord(next), cidr: chosen.toString(), changed: true };
}

/** Remove the cluster's CIDRs inside `range` (default 242.0.0.0/8). Pure; the input is never changed. */
export function releaseClusterCidr(
  allotments: ClusterAllotments,
  clusterId: string,
  opts: ReleaseClusterCidrOptions = {},
): ReleaseClusterCidrResult {
  checkClusterId(clusterId);
  checkOptions(opts);
  const range = cidrOf(opts.range ?? DEFAULT_GLOBAL_RANGE, 'range');
  const parsed = parseAllotments(allotments);
  const released: string[] = [];
  const next = parsed.map((p) => {
    if (p.cluster !== clusterId) return p;
    const keep = p.prefixes.filter((x) => {
      if (!x.overlaps(range)) return true;
      released.push(x.toString());
      return false;
    });
    return { cluster: p.cluster, prefixes: keep };
  });
  return { allotments: toRecord(next), released };
}
