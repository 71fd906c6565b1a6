import type { Prefix } from '@isthmus/ipam';
import { cidrOf, spanOf } from './cidr';
import { GlobalnetError, show } from './errors';

/** A cluster's own address ranges, as it reports them. */
export interface ClusterCidrs {
  readonly id: string;
  readonly podCidrs?: readonly string[];
  readonly serviceCidrs?: readonly string[];
}

export type CidrKind = 'pod' | 'service';

/** One overlapping pair of CIDRs between two clusters. */
export interface CidrOverlap {
  readonly a: string;
  readonly aKind: CidrKind;
  readonly b: string;
  readonly bKind: CidrKind;
}

/** Two clusters (a < b) whose pod/service CIDRs overlap, with every overlapping pair of CIDRs. */
export interface ClusterOverlap {
  readonly a: string;
  readonly b: string;
  readonly cidrs: readonly CidrOverlap[];
}

interface Item {
  readonly cluster: string;
  readonly kind: CidrKind;
  readonly prefix: Prefix;
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * Which clusters' pod/service CIDRs overlap (IPv4 and IPv6), so a caller knows whether global IPs (or a
 * remap) are needed at all. Sorted by cluster pair, then CIDR. Overlaps inside one cluster are not reported.
 */
export function findOverlaps(clusters: readonly ClusterCidrs[]): ClusterOverlap[] {
  if (!Array.isArray(clusters)) {
    throw new GlobalnetError('INVALID_ARGUMENT', `clusters must be a list, got ${show(clusters)}`, {
      value: clusters,
    });
  }
  const seen = new Set<string>();
  const items: Item[] = [];
  for (const c of clusters) {
    if (typeof c?.id !== 'string' || c.id.length === 0) {
      throw new GlobalnetError(
        'INVALID_ARGUMENT',
        `cluster id must be a non-empty string, got ${show(c?.id)}`,
        {
          field: 'id',
          value: c?.id,
        },
      );
    }
    if (seen.has(c.id)) {
      throw new GlobalnetError('INVALID_ARGUMENT', `cluster ${show(c.id)} is listed twice`, {
        field: 'id',
        value: c.id,
      });
    }
    seen.add(c.id);
    for (const [kind, list] of [
      ['pod', c.podCidrs ?? []],
      ['service', c.serviceCidrs ?? []],
    ] as const) {
      for (const text of list) {
        const prefix = cidrOf(text, `cluster ${show(c.id)} ${kind}Cidrs`);
        const [from, to] = spanOf(prefix);
        items.push({ cluster: c.id, kind, prefix, from, to });
      }
    }
  }
  items.sort((x, y) => x.prefix.family - y.prefix.family || (x.from < y.from ? -1 : x.from > y.from ? 1 : 0));
  const pairs = new Map<string, { a: string; b: string; cidrs: Array<[Item, Item]> }>();
  let active: Item[] = [];
  for (const it of items) {
    active = active.filter((x) => x.prefix.family === it.prefix.family && x.to >= it.from);
    for (const x of active) {
      if (x.cluster === it.cluster) continue;
      const [p, q] = x.cluster < it.cluster ? [x, it] : [it, x];
      const key = JSON.stringify([p.cluster, q.cluster]);
      let entry = pairs.get(key);
      if (entry === undefined) {
        entry = { a: p.cluster, b: q.cluster, cidrs: [] };
        pairs.set(key, entry);
      }
      entry.cidrs.push([p, q]);
    }
    active.push(it);
  }
  const byText = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return [...pairs.values()]
    .sort((x, y) => byText(x.a, y.a) || byText(x.b, y.b))
    .map((e) => ({
      a: e.a,
      b: e.b,
      cidrs: e.cidrs
        .sort(
          ([p, q], [r, s]) =>
            p.prefix.compare(r.prefix) || q.prefix.compare(s.prefix) || byText(p.kind, r.kind),
        )
        .map(([p, q]) => ({ a: p.prefix.toString(), aKind: p.kind, b: q.prefix.toString(), bKind: q.kind })),
    }));
}
