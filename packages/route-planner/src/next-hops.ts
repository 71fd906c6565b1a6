import type { Family } from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';
import { addrOf, prefixOf } from './ip';

/** A gateway's next hop on its cable, by remote cluster name (empty: every remote CIDR is a link route). */
export type CableNextHops = ReadonlyMap<string, string>;

const NONE: CableNextHops = new Map();

// Addresses no neighbour can answer for: unspecified, loopback, multicast, limited broadcast.
const NOT_A_NEXT_HOP = [
  '0.0.0.0/32',
  '127.0.0.0/8',
  '224.0.0.0/4',
  '255.255.255.255/32',
  '::/128',
  '::1/128',
  'ff00::/8',
].map((c) => prefixOf(c, 'builtin'));

/**
 * Check a node's `cableNextHops`: a record of remote cluster names (in the topology, not the node's own) to
 * unicast addresses of the routes' family. Returns them canonical, sorted by cluster name. @internal
 */
export function cableNextHopsOf(
  value: unknown,
  field: string,
  node: string,
  ownCluster: string,
  isCluster: (name: string) => boolean,
  family: Family,
): CableNextHops {
  if (value === undefined) return NONE;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `${field}: ${show(value)} is not a record of remote cluster name to next-hop address`,
      { field, node, value },
    );
  }
  const out = new Map<string, string>();
  for (const cluster of Object.keys(value).sort()) {
    const at = `${field}[${show(cluster)}]`;
    if (cluster === ownCluster) {
      throw new RoutePlannerError(
        'INVALID_ARGUMENT',
        `${at}: ${show(cluster)} is the node's own cluster; next hops are for remote clusters`,
        { field: at, node, cluster },
      );
    }
    if (!isCluster(cluster)) {
      throw new RoutePlannerError(
        'UNKNOWN_CLUSTER',
        `${at}: cluster ${show(cluster)} is not in the topology`,
        {
          field: at,
          node,
          cluster,
        },
      );
    }
    const text = (value as Record<string, unknown>)[cluster];
    const addr = addrOf(text, at);
    if (addr.family !== family) {
      throw new RoutePlannerError(
        'INVALID_TOPOLOGY',
        `${at}: ${addr} is IPv${addr.family} but the VTEP CIDR is IPv${family}; node routes are single-stack`,
        { field: at, node, cluster, value: text },
      );
    }
    if (NOT_A_NEXT_HOP.some((p) => p.contains(addr))) {
      throw new RoutePlannerError('INVALID_ADDRESS', `${at}: ${addr} is not a unicast next-hop address`, {
        field: at,
        node,
        cluster,
        value: text,
      });
    }
    out.set(cluster, addr.toString());
  }
  return out.size === 0 ? NONE : out;
}

/** The next hops as a NodeSpec field: a plain record, or nothing when there are none. @internal */
export function cableNextHopsField(hops: CableNextHops): {
  cableNextHops?: Readonly<Record<string, string>>;
} {
  return hops.size === 0 ? {} : { cableNextHops: Object.freeze(Object.fromEntries(hops)) };
}

/** The next hops without those toward `cluster` (it left the topology). @internal */
export function withoutCluster(hops: CableNextHops, cluster: string): CableNextHops {
  if (!hops.has(cluster)) return hops;
  const out = new Map(hops);
  out.delete(cluster);
  return out.size === 0 ? NONE : out;
}
