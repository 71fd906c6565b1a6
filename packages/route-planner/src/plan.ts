import type { Family } from '@isthmus/ipam';
import { RoutePlannerError } from './errors';
import { addrSortKey, dstSortKey } from './ip';

/** Route table numbers the kernel names. */
export const TABLE_MAIN = 254;
export const TABLE_LOCAL = 255;
export const TABLE_DEFAULT = 253;

/** A VXLAN device the plan creates: no learning, explicit FDB and neighbour entries. */
export interface VxlanDevice {
  readonly kind: 'vxlan';
  readonly name: string;
  readonly vni: number;
  /** UDP destination port. */
  readonly port: number;
  /** Underlay source address. */
  readonly local: string;
  /** Underlay device, when pinned. */
  readonly dev?: string;
  readonly learning: boolean;
  readonly mtu: number;
  readonly mac: string;
}

/** A veth pair the plan creates from this side; the peer is moved into another namespace at render time. */
export interface VethDevice {
  readonly kind: 'veth';
  readonly name: string;
  readonly mac: string;
  readonly mtu: number;
  readonly peer: string;
  readonly peerMac: string;
}

/** A device that exists already (a CNI's NIC, the far end of a veth): the plan only sets its MAC and brings it up. */
export interface LinkDevice {
  readonly kind: 'link';
  readonly name: string;
  readonly mac?: string;
  /** Administratively up (a veth end the other namespace created starts down). */
  readonly up: boolean;
}

export type Device = VxlanDevice | VethDevice | LinkDevice;

/** An interface address, "ip/len". */
export interface AddressEntry {
  readonly dev: string;
  readonly address: string;
  readonly family: Family;
}

/**
 * A unicast route. `dst` is "default" or a canonical CIDR (host routes as /32 or /128). `metric` is omitted
 * when it is the kernel's default (0 for IPv4, 1024 for IPv6); `scope` is "link" for IPv4 routes without a
 * gateway and omitted for IPv6 (which has no route scopes).
 */
export interface Route {
  readonly family: Family;
  readonly table: number;
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly scope?: 'link' | 'host';
  readonly onlink?: true;
  readonly src?: string;
  readonly metric?: number;
}

/** A policy rule (lookup only). `from`/`to` are canonical CIDRs; omitted means "all". */
export interface Rule {
  readonly family: Family;
  readonly priority: number;
  readonly from?: string;
  readonly to?: string;
  readonly fwmark?: number;
  /** Omitted when 0xffffffff (the kernel's default). */
  readonly mask?: number;
  readonly table: number;
}

/** A neighbour (ARP/NDP) entry. Plans only hold permanent entries. */
export interface Neighbour {
  readonly dev: string;
  readonly dst: string;
  readonly lladdr: string;
  readonly permanent: boolean;
}

/** A VXLAN forwarding entry: frames for `lladdr` go to the underlay address `dst`. */
export interface FdbEntry {
  readonly dev: string;
  readonly lladdr: string;
  readonly dst: string;
}

/**
 * An iptables mangle rule (rendered for iptables-restore / ip6tables-restore). `order` fixes the rule's
 * position within its chain, since iptables evaluates rules in order.
 */
export interface MangleRule {
  readonly family: Family;
  readonly chain: 'PREROUTING' | 'OUTPUT';
  readonly order: number;
  readonly iif?: string;
  readonly ctstate?: 'NEW';
  readonly action: 'set-mark' | 'save-mark' | 'restore-mark';
  /** For set-mark. */
  readonly mark?: number;
}

/** The desired (or observed) state of one network namespace. Every list is sorted by its identity key. */
export interface Plan {
  readonly devices: readonly Device[];
  readonly addresses: readonly AddressEntry[];
  readonly routes: readonly Route[];
  readonly rules: readonly Rule[];
  readonly neighbours: readonly Neighbour[];
  readonly fdb: readonly FdbEntry[];
  readonly mangle: readonly MangleRule[];
}

export type PlanSection = keyof Plan;
export const SECTIONS: readonly PlanSection[] = [
  'devices',
  'addresses',
  'routes',
  'rules',
  'neighbours',
  'fdb',
  'mangle',
];

const EMPTY: readonly never[] = Object.freeze([]);

/** A plan with nothing in it. */
export function emptyPlan(): Plan {
  return {
    devices: EMPTY,
    addresses: EMPTY,
    routes: EMPTY,
    rules: EMPTY,
    neighbours: EMPTY,
    fdb: EMPTY,
    mangle: EMPTY,
  };
}

const pad = (n: number, w = 10) => String(n).padStart(w, '0');

// Identity keys: what the kernel treats as "the same entry". Two entries with equal keys and different
// fields are a replace; keys also give the canonical order (they sort like the values they encode).
export function deviceKey(d: Device): string {
  return d.name;
}
export function addressKey(a: AddressEntry): string {
  const slash = a.address.indexOf('/');
  return `${a.dev}|${a.family}|${addrSortKey(a.address.slice(0, slash))}/${a.address.slice(slash + 1).padStart(3, '0')}`;
}
/** A route is identified by family, table, destination and metric: a changed nexthop is a replace. */
export function routeKey(r: Route): string {
  return `${r.family}|${pad(r.table)}|${dstSortKey(r.dst)}|${pad(r.metric ?? 0)}`;
}
/** A rule is identified by its selector and priority: a changed table is a replace. */
export function ruleKey(r: Rule): string {
  const sel = (p: string | undefined) => (p === undefined ? '' : dstSortKey(p));
  return `${r.family}|${pad(r.priority)}|${sel(r.from)}|${sel(r.to)}|${r.fwmark === undefined ? '' : pad(r.fwmark)}|${r.mask === undefined ? '' : pad(r.mask)}`;
}
export function neighbourKey(n: Neighbour): string {
  return `${n.dev}|${addrSortKey(n.dst)}`;
}
/** An FDB entry is identified by all of it: the all-zero MAC legitimately appears once per remote. */
export function fdbKey(f: FdbEntry): string {
  return `${f.dev}|${f.lladdr}|${addrSortKey(f.dst)}`;
}
export function mangleKey(m: MangleRule): string {
  return `${m.family}|${m.chain}|${pad(m.order, 4)}`;
}

export const KEY_OF: { readonly [S in PlanSection]: (item: Plan[S][number]) => string } = {
  devices: deviceKey,
  addresses: addressKey,
  routes: routeKey,
  rules: ruleKey,
  neighbours: neighbourKey,
  fdb: fdbKey,
  mangle: mangleKey,
} as never;

// Canonical objects: fixed field order, defaults dropped, so equal entries stringify equally.
export function canonRoute(r: Route): Route {
  const ipv4NoGw = r.family === 4 && r.via === undefined;
  const scope = r.family === 6 ? undefined : (r.scope ?? (ipv4NoGw ? 'link' : undefined));
  const defaultMetric = r.family === 4 ? 0 : 1024;
  const metric = r.metric === undefined || r.metric === defaultMetric ? undefined : r.metric;
  return {
    family: r.family,
    table: r.table,
    dst: r.dst,
    ...(r.via !== undefined && { via: r.via }),
    ...(r.dev !== undefined && { dev: r.dev }),
    ...(scope !== undefined && scope !== ('global' as never) && { scope }),
    ...(r.onlink === true && { onlink: true as const }),
    ...(r.src !== undefined && { src: r.src }),
    ...(metric !== undefined && { metric }),
  };
}
export function canonRule(r: Rule): Rule {
  return {
    family: r.family,
    priority: r.priority,
    ...(r.from !== undefined && { from: r.from }),
    ...(r.to !== undefined && { to: r.to }),
    ...(r.fwmark !== undefined && { fwmark: r.fwmark }),
    ...(r.mask !== undefined && r.mask !== 0xffff_ffff && { mask: r.mask }),
    table: r.table,
  };
}
export function canonDevice(d: Device): Device {
  if (d.kind === 'vxlan') {
    return {
      kind: 'vxlan',
      name: d.name,
      vni: d.vni,
      port: d.port,
      local: d.local,
      ...(d.dev !== undefined && { dev: d.dev }),
      learning: d.learning,
      mtu: d.mtu,
      mac: d.mac,
    };
  }
  if (d.kind === 'veth') {
    return { kind: 'veth', name: d.name, mac: d.mac, mtu: d.mtu, peer: d.peer, peerMac: d.peerMac };
  }
  return { kind: 'link', name: d.name, ...(d.mac !== undefined && { mac: d.mac }), up: d.up };
}
export function canonMangle(m: MangleRule): MangleRule {
  return {
    family: m.family,
    chain: m.chain,
    order: m.order,
    ...(m.iif !== undefined && { iif: m.iif }),
    ...(m.ctstate !== undefined && { ctstate: m.ctstate }),
    action: m.action,
    ...(m.mark !== undefined && { mark: m.mark }),
  };
}

/** Sort items by precomputed key; throws DUPLICATE_ENTRY when two items share a key but differ. */
function sortUnique<T>(section: PlanSection, items: readonly T[], key: (t: T) => string): T[] {
  const keyed = items.map((item) => [key(item), item] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: T[] = [];
  for (let i = 0; i < keyed.length; i++) {
    const [k, item] = keyed[i]!;
    if (i > 0 && keyed[i - 1]![0] === k) {
      if (JSON.stringify(keyed[i - 1]![1]) === JSON.stringify(item)) continue;
      throw new RoutePlannerError(
        'DUPLICATE_ENTRY',
        `two different ${section} entries share one identity: ${JSON.stringify(keyed[i - 1]![1])} and ${JSON.stringify(item)}`,
        { section, a: keyed[i - 1]![1], b: item },
      );
    }
    out.push(item);
  }
  return out;
}

/** Parts of a plan, any of them missing. */
export type PlanParts = { readonly [S in PlanSection]?: Plan[S] };

/**
 * The canonical form of a plan: defaults normalised, every list sorted by identity key, exact duplicates
 * merged. Two different entries with one identity (two routes with the same table and destination) are
 * DUPLICATE_ENTRY.
 */
export function canonicalPlan(parts: PlanParts): Plan {
  return {
    devices: sortUnique('devices', (parts.devices ?? []).map(canonDevice), deviceKey),
    addresses: sortUnique(
      'addresses',
      (parts.addresses ?? []).map((a) => ({ dev: a.dev, address: a.address, family: a.family })),
      addressKey,
    ),
    routes: sortUnique('routes', (parts.routes ?? []).map(canonRoute), routeKey),
    rules: sortUnique('rules', (parts.rules ?? []).map(canonRule), ruleKey),
    neighbours: sortUnique(
      'neighbours',
      (parts.neighbours ?? []).map((n) => ({
        dev: n.dev,
        dst: n.dst,
        lladdr: n.lladdr,
        permanent: n.permanent,
      })),
      neighbourKey,
    ),
    fdb: sortUnique(
      'fdb',
      (parts.fdb ?? []).map((f) => ({ dev: f.dev, lladdr: f.lladdr, dst: f.dst })),
      fdbKey,
    ),
    mangle: sortUnique('mangle', (parts.mangle ?? []).map(canonMangle), mangleKey),
  };
}

/** Merge plans of one namespace (e.g. what two planners want) into one canonical plan. */
export function mergePlans(...plans: readonly PlanParts[]): Plan {
  const parts: Record<string, unknown[]> = {};
  for (const s of SECTIONS) parts[s] = plans.flatMap((p) => (p[s] ?? []) as unknown[]);
  return canonicalPlan(parts as PlanParts);
}
