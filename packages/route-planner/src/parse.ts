import type { Family } from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';
import { dstOf, familyOfText } from './ip';
import {
  type AddressEntry,
  canonicalPlan,
  type Device,
  type FdbEntry,
  type MangleRule,
  type Neighbour,
  type Plan,
  type Route,
  type Rule,
  TABLE_DEFAULT,
  TABLE_LOCAL,
  TABLE_MAIN,
} from './plan';

/** Output of the kernel's JSON dumps, each already JSON.parse'd (or text for iptables-save). All optional. */
export interface IpJsonInput {
  /** `ip -json route show table all` (both families; or IPv4 only with `-4`). */
  readonly routes?: unknown;
  /** `ip -6 -json route show table all`, when IPv6 routes are read separately. */
  readonly routes6?: unknown;
  /** `ip -json rule show` (IPv4: the JSON carries no family). */
  readonly rules?: unknown;
  /** `ip -6 -json rule show`. */
  readonly rules6?: unknown;
  /** `ip -json neigh show` (both families). */
  readonly neigh?: unknown;
  /** `bridge -json fdb show`. */
  readonly fdb?: unknown;
  /** `ip -json -details link show`. */
  readonly links?: unknown;
  /** `ip -json addr show`. */
  readonly addrs?: unknown;
  /**
   * `ip -json link show` of the namespace holding the far ends of veths in `links` (to name the peer); when
   * they are in several namespaces (a node with many pods), a record from each namespace's netnsid (as
   * `links` shows it: `ip -json netns list-id`) to that namespace's `ip -json link show`.
   */
  readonly peerLinks?: unknown;
  /** `iptables-save -t mangle` text. */
  readonly iptables?: string;
  /** `ip6tables-save -t mangle` text. */
  readonly ip6tables?: string;
}

type Obj = Record<string, unknown>;

function list(value: unknown, what: string): Obj[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null)) {
    throw new RoutePlannerError(
      'PARSE_ERROR',
      `${what}: expected a JSON array of objects, got ${show(value).slice(0, 80)}`,
      {
        what,
      },
    );
  }
  return value as Obj[];
}

/** Table names iproute2 prints for the reserved numbers; other names need /etc/iproute2/rt_tables. */
export function tableNumber(value: unknown, what: string): number {
  if (value === undefined || value === 'main') return TABLE_MAIN;
  if (value === 'local') return TABLE_LOCAL;
  if (value === 'default') return TABLE_DEFAULT;
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new RoutePlannerError(
      'PARSE_ERROR',
      `${what}: table ${show(value)} is not a number or main/local/default`,
      {
        what,
        value,
      },
    );
  }
  return n;
}

const KERNEL_PROTOCOLS = new Set(['kernel', 'ra']);

function parseRoute(o: Obj, familyHint: Family | undefined): Route | undefined {
  const type = o.type ?? 'unicast';
  if (type !== 'unicast') return undefined; // local, broadcast, multicast, ...: the kernel's own
  const table = tableNumber(o.table, 'route');
  if (table === TABLE_LOCAL) return undefined;
  if (typeof o.protocol === 'string' && KERNEL_PROTOCOLS.has(o.protocol)) return undefined;
  if (o.nexthops !== undefined || o.nhid !== undefined) return undefined; // multipath: not represented
  const gw = typeof o.gateway === 'string' ? o.gateway : undefined;
  let family: Family;
  let dst: string;
  if (o.dst === 'default') {
    family = familyHint ?? (gw !== undefined ? familyOfText(gw) : o.pref !== undefined ? 6 : 4);
    dst = 'default';
  } else {
    const d = dstOf(o.dst, 'route dst');
    family = d.family;
    dst = d.dst;
  }
  if (dst.startsWith('fe80:')) return undefined; // link-local: every IPv6 link gets one
  const flags = Array.isArray(o.flags) ? o.flags : [];
  return {
    family,
    table,
    dst,
    ...(gw !== undefined && { via: gw }),
    ...(typeof o.dev === 'string' && { dev: o.dev }),
    ...(typeof o.scope === 'string' && { scope: o.scope as 'link' }),
    ...(flags.includes('onlink') && { onlink: true as const }),
    ...(typeof o.prefsrc === 'string' && { src: o.prefsrc }),
    ...(typeof o.metric === 'number' && { metric: o.metric }),
  };
}

function selector(addr: unknown, len: unknown, family: Family): string | undefined {
  if (addr === undefined || addr === 'all') return undefined;
  const bits = typeof len === 'number' ? len : family === 4 ? 32 : 128;
  return dstOf(`${addr}/${bits}`, 'rule selector').dst;
}

const DEFAULT_RULES = new Set(['0|255', '32766|254', '32767|253']);

/** Keys of a lookup rule a Rule can express; any other (not, iif, oif, suppress_prefixlen, ...) changes its meaning. */
const RULE_KEYS = new Set([
  'priority',
  'src',
  'srclen',
  'dst',
  'dstlen',
  'fwmark',
  'fwmask',
  'table',
  'protocol',
]);

function parseRule(o: Obj, family: Family): Rule | undefined {
  if (o.table === undefined) return undefined; // goto, nop, blackhole ...: not lookups
  if (Object.keys(o).some((k) => !RULE_KEYS.has(k))) return undefined; // not represented, so never ours
  const table = tableNumber(o.table, 'rule');
  const priority = typeof o.priority === 'number' ? o.priority : 0;
  const plain =
    o.src === 'all' &&
    o.dst === undefined &&
    o.fwmark === undefined &&
    o.iif === undefined &&
    o.oif === undefined;
  if (plain && DEFAULT_RULES.has(`${priority}|${table}`)) return undefined;
  const from = selector(o.src, o.srclen, family);
  const to = selector(o.dst, o.dstlen, family);
  return {
    family,
    priority,
    ...(from !== undefined && { from }),
    ...(to !== undefined && { to }),
    ...(typeof o.fwmark === 'string' && { fwmark: Number(o.fwmark) }),
    ...(typeof o.fwmask === 'string' && { mask: Number(o.fwmask) }),
    table,
  };
}

/** Finds a veth's far end in another namespace; ifindexes repeat across namespaces, so by netnsid when given. */
function peerFinder(peers: unknown): (l: Obj) => Obj | undefined {
  if (peers !== null && typeof peers === 'object' && !Array.isArray(peers)) {
    const byNs = new Map<string, Map<unknown, Obj>>();
    for (const [id, ls] of Object.entries(peers))
      byNs.set(id, new Map(list(ls, `peerLinks[${id}]`).map((l) => [l.ifindex, l])));
    return (l) => byNs.get(String(l.link_netnsid))?.get(l.link_index);
  }
  const byIndex = new Map(list(peers, 'peerLinks').map((l) => [l.ifindex, l]));
  return (l) => byIndex.get(l.link_index);
}

function parseLinks(links: Obj[], peers: unknown): Device[] {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const peerOf = peerFinder(peers);
  return links.map((l): Device => {
    const name = String(l.ifname);
    const mac = typeof l.address === 'string' ? l.address : undefined;
    const info = (l.linkinfo ?? {}) as Obj;
    const data = (info.info_data ?? {}) as Obj;
    if (info.info_kind === 'vxlan') {
      return {
        kind: 'vxlan',
        name,
        vni: Number(data.id),
        port: Number(data.port),
        local: String(data.local ?? data.local6),
        ...(typeof data.link === 'string' && { dev: data.link }),
        learning: data.learning === true,
        mtu: Number(l.mtu),
        mac: mac ?? '',
      };
    }
    if (info.info_kind === 'veth') {
      const peer = l.link_netnsid !== undefined ? peerOf(l) : byName.get(l.link);
      if (peer !== undefined) {
        return {
          kind: 'veth',
          name,
          mac: mac ?? '',
          mtu: Number(l.mtu),
          peer: String(peer.ifname),
          peerMac: String(peer.address),
        };
      }
    }
    return {
      kind: 'link',
      name,
      ...(mac !== undefined && { mac }),
      up: Array.isArray(l.flags) && l.flags.includes('UP'),
    };
  });
}

function parseAddrs(addrs: Obj[]): AddressEntry[] {
  const out: AddressEntry[] = [];
  for (const l of addrs) {
    for (const a of list(l.addr_info, 'addr_info')) {
      if (a.scope !== 'global') continue; // link-local and host (loopback) addresses are the kernel's
      const family: Family = a.family === 'inet6' ? 6 : 4;
      out.push({ dev: String(l.ifname), address: `${a.local}/${a.prefixlen}`, family });
    }
  }
  return out;
}

/** FDB fields an FdbEntry cannot express: entries with them send elsewhere or otherwise, so are never ours. */
const FOREIGN_FDB_KEYS = ['port', 'vni', 'src_vni', 'viaIf', 'viaIfIndex', 'linkNetNsId', 'nhid', 'vlan'];

const MANGLE_RE =
  /^-A (PREROUTING|OUTPUT)(?: -i (\S+))?(?: -m conntrack --ctstate (NEW))? -j (?:MARK --set-xmark (0x[0-9a-f]+)\/0xffffffff|CONNMARK --(save-mark|restore-mark) --nfmask 0xffffffff --ctmask 0xffffffff)$/;

/**
 * The mangle rules of `iptables-save -t mangle` output that this package renders (connmark reply path);
 * other rules are not represented.
 */
export function parseIptablesSave(text: string, family: Family): MangleRule[] {
  const out: MangleRule[] = [];
  const order = new Map<string, number>();
  let inMangle = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) inMangle = line === '*mangle';
    if (!inMangle) continue;
    const m = MANGLE_RE.exec(line.trim());
    if (!m) continue;
    const chain = m[1] as 'PREROUTING' | 'OUTPUT';
    const n = order.get(chain) ?? 0;
    order.set(chain, n + 1);
    out.push({
      family,
      chain,
      order: n,
      ...(m[2] !== undefined && { iif: m[2] }),
      ...(m[3] !== undefined && { ctstate: 'NEW' as const }),
      action: m[4] !== undefined ? 'set-mark' : (m[5] as 'save-mark' | 'restore-mark'),
      ...(m[4] !== undefined && { mark: Number(m[4]) }),
    });
  }
  return out;
}

/**
 * Read the kernel's JSON dumps back into a canonical plan, leaving out what the kernel owns:
 * routes of type local/broadcast/multicast, the whole local table, protocol kernel and ra routes
 * (connected subnets, fe80::/64, router advertisements), multipath routes; the default rules
 * (0 local, 32766 main, 32767 default); neighbour entries that are not PERMANENT; FDB entries without a
 * remote `dst` (the multicast entries every device has); link-local and host-scope addresses. Also left out,
 * as not ours: rules with selectors a Rule cannot express, and FDB entries with their own port, VNI, source
 * VNI, via device, nexthop or VLAN (so scopeToPlan never hands them to a diff to delete).
 * Table names main/local/default become 254/255/253.
 */
export function parseIpJson(input: IpJsonInput): Plan {
  const routes: Route[] = [];
  for (const o of list(input.routes, 'routes')) {
    const r = parseRoute(o, undefined);
    if (r) routes.push(r);
  }
  for (const o of list(input.routes6, 'routes6')) {
    const r = parseRoute(o, 6);
    if (r) routes.push(r);
  }
  const rules: Rule[] = [];
  for (const [v, family] of [
    [input.rules, 4],
    [input.rules6, 6],
  ] as const) {
    for (const o of list(v, family === 4 ? 'rules' : 'rules6')) {
      const r = parseRule(o, family);
      if (r) rules.push(r);
    }
  }
  const neighbours: Neighbour[] = [];
  for (const o of list(input.neigh, 'neigh')) {
    const state = Array.isArray(o.state) ? o.state : [];
    if (!state.includes('PERMANENT') || typeof o.lladdr !== 'string') continue;
    neighbours.push({ dev: String(o.dev), dst: String(o.dst), lladdr: o.lladdr, permanent: true });
  }
  const fdb: FdbEntry[] = [];
  for (const o of list(input.fdb, 'fdb')) {
    if (typeof o.dst !== 'string' || typeof o.ifname !== 'string' || typeof o.mac !== 'string') continue;
    if (FOREIGN_FDB_KEYS.some((k) => o[k] !== undefined)) continue;
    fdb.push({ dev: o.ifname, lladdr: o.mac, dst: o.dst });
  }
  const mangle = [
    ...(input.iptables === undefined ? [] : parseIptablesSave(input.iptables, 4)),
    ...(input.ip6tables === undefined ? [] : parseIptablesSave(input.ip6tables, 6)),
  ];
  return canonicalPlan({
    devices: parseLinks(list(input.links, 'links'), input.peerLinks),
    addresses: parseAddrs(list(input.addrs, 'addrs')),
    routes,
    rules,
    neighbours,
    fdb,
    mangle,
  });
}

/**
 * The part of an observed plan that `desired` manages: its devices (existing links reduced to what the plan
 * sets); addresses, neighbours and FDB entries on the devices it creates, or on existing links where the plan
 * names some of that kind; routes in the tables it uses; rules that look up those tables (or the tables of
 * its rules); all mangle rules. Diff this against `desired` to leave everything else alone.
 */
export function scopeToPlan(observed: Plan, desired: Plan): Plan {
  const devs = new Map(desired.devices.map((d) => [d.name, d]));
  // Devices the plan creates are managed whole; on existing links only what the plan itself names.
  const created = desired.devices.filter((d) => d.kind !== 'link').map((d) => d.name);
  const on = (devs: readonly string[]) => new Set<string>([...created, ...devs]);
  const addrDevs = on(desired.addresses.map((a) => a.dev));
  const neighDevs = on(desired.neighbours.map((n) => n.dev));
  const fdbDevs = on(desired.fdb.map((f) => f.dev));
  const tables = new Set(desired.routes.map((r) => r.table));
  // Rules that look up other tables belong to other software on the node: never ours to delete.
  const ruleTables = new Set([...tables, ...desired.rules.map((r) => r.table)]);
  const devices = observed.devices.flatMap((d): Device[] => {
    const want = devs.get(d.name);
    if (!want) return [];
    if (want.kind === 'link') {
      const up = d.kind === 'link' ? d.up : true;
      return [
        {
          kind: 'link',
          name: d.name,
          ...(want.mac !== undefined && d.mac !== undefined && { mac: d.mac }),
          up,
        },
      ];
    }
    return [d];
  });
  return canonicalPlan({
    devices,
    addresses: observed.addresses.filter((a) => addrDevs.has(a.dev)),
    routes: observed.routes.filter((r) => tables.has(r.table)),
    rules: observed.rules.filter((r) => ruleTables.has(r.table)),
    neighbours: observed.neighbours.filter((n) => neighDevs.has(n.dev)),
    fdb: observed.fdb.filter((f) => fdbDevs.has(f.dev)),
    mangle: observed.mangle,
  });
}
