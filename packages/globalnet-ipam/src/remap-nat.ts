// The NAT that makes a remap real on this cluster's gateway (Liqo's scheme): traffic to a peer leaves
// with its source translated to how the peer sees us; traffic from a peer arrives addressed to how the
// peer sees us and is translated back. Both are prefix-to-prefix, so host bits are kept.
import type { Family } from '@isthmus/ipam';
import { cidrOf } from './cidr';
import { GlobalnetError, show } from './errors';
import { objectName } from './naming';
import type { RemapMapping, RemapPlan } from './remap';

export interface RemapNatInput {
  /** This cluster's plan: how it sees each peer. */
  readonly remap: RemapPlan;
  /** For each peer, how that peer sees this cluster's prefixes (the peer's own plan, its entry for us). */
  readonly seenBy: Readonly<Record<string, readonly RemapMapping[]>>;
}

export interface PrefixMap {
  readonly from: string;
  readonly to: string;
}

export interface RemapNatPeer {
  readonly cluster: string;
  readonly family: Family;
  /** The named set holding `peerSeenAs`. */
  readonly set: string;
  /** The peer's prefixes as this cluster sees them: sources of its traffic, destinations of ours. */
  readonly peerSeenAs: readonly string[];
  /** Inbound: how the peer sees a local prefix -> the local prefix. */
  readonly dnat: readonly PrefixMap[];
  /** Outbound: a local prefix -> how the peer sees it. */
  readonly snat: readonly PrefixMap[];
}

export interface RemapNatPlan {
  readonly kind: 'remap';
  readonly version: 1;
  /** Peers that see some local prefix under another prefix, by family then cluster id. */
  readonly peers: readonly RemapNatPeer[];
}

/**
 * The prefix-to-prefix NAT for a remap plan. A peer that sees every local prefix as it is needs no NAT and
 * is left out; a peer missing from `seenBy` is taken to see us as we are.
 */
export function planRemapNat(input: RemapNatInput): RemapNatPlan {
  const plan = input?.remap;
  if (plan?.version !== 1 || !Array.isArray(plan.peers)) {
    throw new GlobalnetError('INVALID_ARGUMENT', 'remap must be a plan returned by planRemap', {
      field: 'remap',
    });
  }
  const seenBy = input.seenBy ?? {};
  const locals = plan.local.map((t) => cidrOf(t, 'local prefix'));
  const known = new Set(plan.peers.map((p) => p.cluster));
  for (const id of Object.keys(seenBy)) {
    if (!known.has(id))
      throw new GlobalnetError('INVALID_PEER', `seenBy names ${show(id)}, which is not a peer of the plan`, {
        cluster: id,
      });
  }
  const out: RemapNatPeer[] = [];
  for (const view of plan.peers as RemapPlan['peers']) {
    const theirs = seenBy[view.cluster] ?? [];
    if (!Array.isArray(theirs)) {
      throw new GlobalnetError('INVALID_PEER', `seenBy[${show(view.cluster)}] must be a list of mappings`, {
        cluster: view.cluster,
      });
    }
    const pairs = (theirs as readonly RemapMapping[]).map((m) => {
      const prefix = cidrOf(m?.prefix, `seenBy[${show(view.cluster)}] prefix`);
      const seenAs = cidrOf(m.seenAs, `seenBy[${show(view.cluster)}] seenAs`);
      if (!locals.some((l) => l.equals(prefix))) {
        throw new GlobalnetError(
          'INVALID_PEER',
          `peer ${show(view.cluster)} maps ${prefix}, which is not a local prefix`,
          {
            cluster: view.cluster,
            value: prefix.toString(),
          },
        );
      }
      if (seenAs.bits !== prefix.bits || seenAs.family !== prefix.family) {
        throw new GlobalnetError(
          'INVALID_PEER',
          `peer ${show(view.cluster)} sees ${prefix} as ${seenAs}, not a prefix of the same length`,
          {
            cluster: view.cluster,
            value: seenAs.toString(),
          },
        );
      }
      return { prefix, seenAs };
    });
    for (const family of [4, 6] as const) {
      const moved = pairs
        .filter((p) => p.prefix.family === family && !p.prefix.equals(p.seenAs))
        .sort((a, b) => a.prefix.compare(b.prefix));
      if (moved.length === 0) continue;
      const peerSeenAs = view.mappings
        .map((m) => cidrOf(m.seenAs, 'seenAs'))
        .filter((p) => p.family === family)
        .sort((a, b) => a.compare(b));
      out.push({
        cluster: view.cluster,
        family,
        set: objectName(family === 4 ? 'peer4' : 'peer6', view.cluster),
        peerSeenAs: peerSeenAs.map(String),
        dnat: [...moved]
          .sort((a, b) => a.seenAs.compare(b.seenAs))
          .map((p) => ({ from: p.seenAs.toString(), to: p.prefix.toString() })),
        snat: moved.map((p) => ({ from: p.prefix.toString(), to: p.seenAs.toString() })),
      });
    }
  }
  out.sort((a, b) => a.family - b.family || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  return { kind: 'remap', version: 1, peers: out };
}
