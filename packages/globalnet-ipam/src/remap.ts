// Liqo's strategy: see each overlapping peer prefix through a free prefix of the same length (1:1, host
// bits kept). Pure and stable: pass the previous plan back in and no existing mapping moves.
import { Addr, type Family, Prefix } from '@isthmus/ipam';
import { addrOf, cidrOf, lowestFreeAligned, spanOf } from './cidr';
import { GlobalnetError, show } from './errors';

export interface PeerPrefixes {
  readonly cluster: string;
  /** The peer's pod, service (and any other) CIDRs, as it reports them. */
  readonly prefixes: readonly string[];
}

/** How this cluster sees one peer prefix. */
export interface RemapMapping {
  readonly prefix: string;
  /** The prefix this cluster uses for it: the prefix itself, or one of the same length from the remap range. */
  readonly seenAs: string;
  readonly remapped: boolean;
}

export interface PeerView {
  readonly cluster: string;
  /** One mapping per peer prefix, in prefix order. */
  readonly mappings: readonly RemapMapping[];
}

export interface RemapPlan {
  readonly version: 1;
  readonly remapRanges: readonly string[];
  readonly local: readonly string[];
  /** Peers in cluster id order. */
  readonly peers: readonly PeerView[];
}

export interface RemapOptions {
  /** Where remapped prefixes come from: one range per family, e.g. `10.200.0.0/13` or `['10.200.0.0/13', 'fd99::/48']`. */
  readonly remapRange: string | readonly string[];
  /** The previous plan: every mapping still valid is kept as it was. */
  readonly previous?: RemapPlan;
}

interface Span {
  readonly from: bigint;
  readonly to: bigint;
}

/** Occupied address spans of one family, kept sorted for the free-prefix search. */
class Occupied {
  private readonly spans: Span[] = [];
  add(p: Prefix): void {
    const [from, to] = spanOf(p);
    const i = this.spans.findIndex((s) => s.from > from);
    this.spans.splice(i < 0 ? this.spans.length : i, 0, { from, to });
  }
  overlaps(p: Prefix): boolean {
    const [from, to] = spanOf(p);
    return this.spans.some((s) => s.from <= to && from <= s.to);
  }
  pairs(): Array<[bigint, bigint]> {
    return this.spans.map((s) => [s.from, s.to]);
  }
}

const cmpText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function parsePeers(peers: readonly PeerPrefixes[]): Map<string, Prefix[]> {
  if (!Array.isArray(peers)) {
    throw new GlobalnetError('INVALID_PEER', `peers must be a list, got ${show(peers)}`, { value: peers });
  }
  const out = new Map<string, Prefix[]>();
  for (const peer of peers) {
    const id = peer?.cluster;
    if (typeof id !== 'string' || id.length === 0) {
      throw new GlobalnetError(
        'INVALID_PEER',
        `peer cluster id must be a non-empty string, got ${show(id)}`,
        { value: id },
      );
    }
    if (out.has(id))
      throw new GlobalnetError('INVALID_PEER', `peer ${show(id)} is listed twice`, { cluster: id });
    if (!Array.isArray(peer.prefixes)) {
      throw new GlobalnetError(
        'INVALID_PEER',
        `peer ${show(id)} prefixes must be a list, got ${show(peer.prefixes)}`,
        {
          cluster: id,
        },
      );
    }
    const prefixes = (peer.prefixes as readonly string[])
      .map((t) => cidrOf(t, `peer ${show(id)} prefix`))
      .sort((a, b) => a.compare(b));
    for (let i = 1; i < prefixes.length; i++) {
      for (let j = 0; j < i; j++) {
        if (prefixes[i]!.overlaps(prefixes[j]!)) {
          throw new GlobalnetError(
            'INVALID_PEER',
            `peer ${show(id)} prefixes ${prefixes[j]} and ${prefixes[i]} overlap each other`,
            {
              cluster: id,
              value: [prefixes[j]!.toString(), prefixes[i]!.toString()],
            },
          );
        }
      }
    }
    out.set(id, prefixes);
  }
  return out;
}

function parseRanges(remapRange: string | readonly string[]): Map<Family, Prefix> {
  const list = typeof remapRange === 'string' ? [remapRange] : remapRange;
  if (!Array.isArray(list) || list.length === 0) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `remapRange must be a CIDR or a list of CIDRs, got ${show(remapRange)}`,
      {
        field: 'remapRange',
        value: remapRange,
      },
    );
  }
  const out = new Map<Family, Prefix>();
  for (const t of list) {
    const p = cidrOf(t, 'remapRange');
    if (out.has(p.family)) {
      throw new GlobalnetError(
        'INVALID_ARGUMENT',
        `remapRange has two IPv${p.family} ranges (${out.get(p.family)} and ${p})`,
        {
          field: 'remapRange',
          value: list,
        },
      );
    }
    out.set(p.family, p);
  }
  return out;
}

/**
 * For each peer prefix that overlaps a local prefix or what this cluster already sees of another peer,
 * assign a prefix of the same length from `remapRange` (lowest free aligned one); others are seen as they
 * are. Peers are handled in cluster id order; mappings of `previous` that are still valid are kept first,
 * so a peer keeps its mapping while it exists. Every prefix the cluster sees is disjoint from every other.
 */
export function planRemap(
  local: readonly string[],
  peers: readonly PeerPrefixes[],
  opts: RemapOptions,
): RemapPlan {
  if (!Array.isArray(local)) {
    throw new GlobalnetError('INVALID_ARGUMENT', `local must be a list of CIDRs, got ${show(local)}`, {
      field: 'local',
      value: local,
    });
  }
  const ranges = parseRanges(opts?.remapRange);
  const localPrefixes = local.map((t) => cidrOf(t, 'local prefix')).sort((a, b) => a.compare(b));
  const byPeer = parsePeers(peers);
  const occupied = new Map<Family, Occupied>([
    [4, new Occupied()],
    [6, new Occupied()],
  ]);
  for (const p of localPrefixes) occupied.get(p.family)!.add(p);
  const chosen = new Map<string, Map<string, Prefix>>();
  for (const id of byPeer.keys()) chosen.set(id, new Map());

  // Keep what the previous plan decided, where it still holds.
  const previous = opts.previous;
  if (previous !== undefined) {
    const isObject = (v: unknown) => typeof v === 'object' && v !== null;
    const wellFormed = (v: PeerView) =>
      isObject(v) && Array.isArray(v.mappings) && v.mappings.every(isObject);
    if (previous?.version !== 1 || !Array.isArray(previous.peers) || !previous.peers.every(wellFormed)) {
      throw new GlobalnetError('INVALID_ARGUMENT', 'previous must be a plan returned by planRemap', {
        field: 'previous',
      });
    }
    for (const view of [...previous.peers].sort((a, b) => cmpText(a.cluster, b.cluster))) {
      const current = byPeer.get(view.cluster);
      if (current === undefined) continue;
      for (const m of view.mappings) {
        const prefix = cidrOf(m.prefix, `previous mapping of ${view.cluster}`);
        const seenAs = cidrOf(m.seenAs, `previous mapping of ${view.cluster}`);
        if (
          !current.some((c) => c.equals(prefix)) ||
          seenAs.bits !== prefix.bits ||
          seenAs.family !== prefix.family
        )
          continue;
        const range = ranges.get(seenAs.family);
        const remapped = !seenAs.equals(prefix);
        if (remapped && (range === undefined || !range.contains(seenAs))) continue;
        const occ = occupied.get(seenAs.family)!;
        if (occ.overlaps(seenAs)) continue;
        occ.add(seenAs);
        chosen.get(view.cluster)!.set(prefix.toString(), seenAs);
      }
    }
  }

  // Then everything new, in cluster id and prefix order.
  for (const id of [...byPeer.keys()].sort(cmpText)) {
    const mine = chosen.get(id)!;
    for (const prefix of byPeer.get(id)!) {
      if (mine.has(prefix.toString())) continue;
      const occ = occupied.get(prefix.family)!;
      let seenAs = prefix;
      if (occ.overlaps(prefix)) {
        const range = ranges.get(prefix.family);
        if (range === undefined) {
          throw new GlobalnetError(
            'FAMILY_MISMATCH',
            `peer ${show(id)} prefix ${prefix} needs a remap but remapRange has no IPv${prefix.family} range`,
            { cluster: id, value: prefix.toString(), family: prefix.family },
          );
        }
        const start =
          prefix.bits >= range.bits ? lowestFreeAligned(range, prefix.bits, occ.pairs()) : undefined;
        if (start === undefined) {
          throw new GlobalnetError(
            'REMAP_EXHAUSTED',
            `remapRange ${range} has no free /${prefix.bits} for peer ${show(id)} prefix ${prefix}`,
            { cluster: id, value: prefix.toString(), range: range.toString() },
          );
        }
        seenAs = Prefix.from(Addr.fromBigInt(prefix.family, start), prefix.bits);
      }
      occ.add(seenAs);
      mine.set(prefix.toString(), seenAs);
    }
  }

  return {
    version: 1,
    remapRanges: [...ranges.values()].sort((a, b) => a.compare(b)).map(String),
    local: localPrefixes.map(String),
    peers: [...byPeer.keys()].sort(cmpText).map((cluster) => ({
      cluster,
      mappings: byPeer.get(cluster)!.map((p) => {
        const seenAs = chosen.get(cluster)!.get(p.toString())!;
        return { prefix: p.toString(), seenAs: seenAs.toString(), remapped: !seenAs.equals(p) };
      }),
    })),
  };
}

/** Translate a peer's address the way this cluster sees it (host bits kept); undefined when no prefix holds it. */
export function remapAddress(plan: RemapPlan, cluster: string, address: string): string | undefined {
  const a = addrOf(address, 'address');
  const view = plan.peers.find((p) => p.cluster === cluster);
  for (const m of view?.mappings ?? []) {
    const from = cidrOf(m.prefix, 'prefix');
    if (!from.contains(a)) continue;
    const to = cidrOf(m.seenAs, 'seenAs');
    return Addr.fromBigInt(
      a.family,
      to.first().toBigInt() + (a.toBigInt() - from.first().toBigInt()),
    ).toString();
  }
  return undefined;
}
