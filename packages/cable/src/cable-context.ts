import type { Addr, Family, Prefix } from '@isthmus/ipam';
import {
  chooseEndpoint,
  type EndpointChoice,
  type GatewayEndpoint,
  type ParsedEndpoint,
  parseEndpoint,
} from './endpoint';
import { CableError, show } from './errors';
import { MIN_MTU } from './mtu';
import { checkAddr } from './validate';

/** Options every driver takes. */
export interface CommonCableOptions {
  /** Both gateways share a network (use private IPs); omit to decide from the endpoints. */
  readonly sameNetwork?: boolean;
  /** MTU of the underlay link (default 1500). */
  readonly linkMtu?: number;
  /** Source address for routes into the tunnel; must lie in one of the local subnets. */
  readonly sourceIp?: string;
}

/** A route the plan installs: remote subnet -> tunnel device. */
export interface RoutePlan {
  readonly clusterId: string;
  readonly dst: string;
  readonly dev: string;
  /** Next hop (VXLAN: the remote VTEP, on-link); null for point-to-point devices. */
  readonly via: string | null;
  readonly src: string | null;
}

/** A remote gateway after validation, with the address the cable uses. */
export interface ResolvedPeer {
  readonly ep: ParsedEndpoint;
  readonly choice: EndpointChoice;
}

export interface ResolvedCable {
  readonly local: ParsedEndpoint;
  /** Sorted by cluster id. */
  readonly peers: readonly ResolvedPeer[];
  readonly underlayFamily: Family;
  readonly sourceIp: Addr | null;
}

/**
 * Validates the endpoints of one gateway's cables: one peer per remote cluster, no remote subnet
 * overlapping another peer's (they become AllowedIPs / routes) or a local one, one underlay family.
 */
export function resolveCable(
  local: GatewayEndpoint,
  remotes: GatewayEndpoint | readonly GatewayEndpoint[],
  options: CommonCableOptions,
): ResolvedCable {
  const l = parseEndpoint(local, 'local');
  const list = Array.isArray(remotes)
    ? (remotes as readonly GatewayEndpoint[])
    : [remotes as GatewayEndpoint];
  const role = (i: number) => (Array.isArray(remotes) ? `remote[${i}]` : 'remote');
  if (options.sameNetwork !== undefined && typeof options.sameNetwork !== 'boolean') {
    throw new CableError('INVALID_ARGUMENT', `sameNetwork ${show(options.sameNetwork)} must be a boolean`, {
      field: 'sameNetwork',
      value: options.sameNetwork,
    });
  }
  const family = l.privateIp.family;
  const peers: ResolvedPeer[] = [];
  const seen = new Set<string>([l.clusterId]);
  list.forEach((r, i) => {
    const ep = parseEndpoint(r, role(i));
    if (seen.has(ep.clusterId)) {
      throw new CableError(
        'DUPLICATE_PEER',
        ep.clusterId === l.clusterId
          ? `${role(i)}.clusterId ${show(ep.clusterId)} is the local cluster`
          : `${role(i)}.clusterId ${show(ep.clusterId)} appears twice`,
        { field: `${role(i)}.clusterId`, value: ep.clusterId },
      );
    }
    seen.add(ep.clusterId);
    if (ep.privateIp.family !== family) {
      throw new CableError(
        'FAMILY_MISMATCH',
        `${role(i)}.privateIp ${ep.privateIp} is IPv${ep.privateIp.family} but local.privateIp ${l.privateIp} is IPv${family}`,
        { field: `${role(i)}.privateIp`, value: String(ep.privateIp), expected: family },
      );
    }
    peers.push({ ep, choice: chooseEndpoint(l, ep, options.sameNetwork) });
  });
  peers.sort((a, b) => (a.ep.clusterId < b.ep.clusterId ? -1 : a.ep.clusterId > b.ep.clusterId ? 1 : 0));
  checkNoOverlap(l, peers);
  let sourceIp: Addr | null = null;
  if (options.sourceIp !== undefined) {
    sourceIp = checkAddr(options.sourceIp, 'sourceIp');
    if (!l.subnets.some((s) => s.contains(sourceIp!))) {
      throw new CableError(
        'INVALID_ARGUMENT',
        `sourceIp ${sourceIp} is not in any local subnet (${l.subnets.join(', ')})`,
        { field: 'sourceIp', value: options.sourceIp },
      );
    }
  }
  return { local: l, peers, underlayFamily: family, sourceIp };
}

function checkNoOverlap(local: ParsedEndpoint, peers: readonly ResolvedPeer[]): void {
  const all: { p: Prefix; owner: string }[] = [];
  for (const s of local.subnets) all.push({ p: s, owner: local.clusterId });
  for (const peer of peers) for (const s of peer.ep.subnets) all.push({ p: s, owner: peer.ep.clusterId });
  all.sort((a, b) => a.p.compare(b.p));
  // Prefixes nest or are disjoint, so any overlap shows between neighbours in address order.
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    if (!a.p.overlaps(b.p)) continue;
    const localInvolved = a.owner === local.clusterId || b.owner === local.clusterId;
    throw new CableError(
      localInvolved ? 'SUBNET_OVERLAP' : 'ALLOWED_IPS_OVERLAP',
      localInvolved
        ? `subnet ${a.p} of cluster ${show(a.owner)} overlaps ${b.p} of cluster ${show(b.owner)}`
        : `AllowedIPs overlap between peers: ${a.p} of cluster ${show(a.owner)} and ${b.p} of cluster ${show(b.owner)}`,
      { a: { clusterId: a.owner, subnet: String(a.p) }, b: { clusterId: b.owner, subnet: String(b.p) } },
    );
  }
}

/** Inner families present on both sides must fit the tunnel MTU (IPv6 needs 1280). */
export function checkInnerMtu(driver: string, mtu: number, subnets: readonly Prefix[]): void {
  if (mtu < MIN_MTU[6] && subnets.some((s) => s.family === 6)) {
    throw new CableError(
      'MTU_TOO_SMALL',
      `a ${driver} tunnel MTU of ${mtu} cannot carry IPv6 subnets (IPv6 needs at least 1280)`,
      { driver, mtu },
    );
  }
}

/** Stable comparison of plain strings (plans sort by it, independent of locale). */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Routes in address order of their destinations (the order `ip route` lists them in). */
export function sortRoutes(routes: { p: Prefix; r: RoutePlan }[]): RoutePlan[] {
  return routes.sort((a, b) => a.p.compare(b.p)).map((x) => x.r);
}
