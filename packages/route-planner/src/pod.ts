import type { Addr, Family } from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';
import { addrOf, dstOf, ifaceAddrOf } from './ip';
import { fnv1a, macFromKey, macOf, macPrefixOf, podMAC } from './mac';
import {
  canonicalPlan,
  canonRoute,
  type Device,
  type MangleRule,
  type Neighbour,
  type Plan,
  type Route,
  type Rule,
  routeKey,
  ruleKey,
  TABLE_MAIN,
} from './plan';
import { ifname, intIn } from './topology';

/** A route the CNI put in the pod's main table for one NIC. */
export interface CniRoute {
  /** "default" or a CIDR (a bare address is a host route). */
  readonly dst: string;
  readonly via?: string;
  readonly scope?: 'link' | 'host';
  readonly src?: string;
  readonly metric?: number;
  /** Needed only for a "default" route without `via`. */
  readonly family?: Family;
}

/** A pod NIC as the CNI left it. */
export interface PodNic {
  readonly name: string;
  /** Interface addresses, "ip/len". */
  readonly addresses: readonly string[];
  /** Routes the CNI put in the main table for this NIC (connected subnets are the kernel's: leave them out). */
  readonly routes?: readonly CniRoute[];
  readonly mtu?: number;
}

/** An extra route for a NIC's policy table (its table, or main for eth0). */
export interface PolicyRoute {
  readonly dst: string;
  readonly via?: string;
  /** The NIC; default: the NIC being added. */
  readonly nic?: string;
}

export type PodRouteMode = 'underlay' | 'overlay' | 'auto';

export interface PodRouteInput {
  /** The pod's NICs in attach order; eth0 first. */
  readonly nics: readonly PodNic[];
  /** The NIC being added; NICs after it are not attached yet. Default: the last. */
  readonly currentNIC?: string;
  /** The node's IPs (one per family is used for next hops). */
  readonly nodeIPs: readonly string[];
  readonly clusterPodCIDRs?: readonly string[];
  readonly serviceCIDRs?: readonly string[];
  readonly hijackCIDRs?: readonly string[];
  /** Default `auto`: underlay when the NIC is eth0 or veth0 exists, else overlay. */
  readonly mode?: PodRouteMode;
  /** The pod annotation `ipam.spidernet.io/default-route-nic`; default eth0 (the first NIC). */
  readonly podDefaultRouteNIC?: string;
  /** Default true. */
  readonly tunePodRoutes?: boolean;
  /** Default 500. */
  readonly hostRuleTable?: number;
  /** rp_filter for the pod's interfaces; default 0; -1 leaves it alone. */
  readonly podRPFilter?: -1 | 0 | 1 | 2;
  /** Two bytes ("0a:1b"): each attached NIC's MAC becomes prefix + its IPv4 bytes (last 4 bytes for IPv6). */
  readonly podMACPrefix?: string;
  readonly policyRoutes?: readonly PolicyRoute[];
  /** Priority of the rules the plan adds; default 1000. */
  readonly rulePriority?: number;
  /** Stable key for derived names and MACs (a container ID); default: the first NIC's first address. */
  readonly podKey?: string;
  readonly hostVethName?: string;
  readonly hostVethMAC?: string;
  readonly podVethMAC?: string;
}

export interface Sysctl {
  /** sysctl's dotted name; dots inside an interface name are written as slashes (eth0.100 -> eth0/100). */
  readonly name: string;
  /** The same setting as a /proc/sys file. */
  readonly path: string;
  readonly value: string;
}

/** An IPv4 per-interface sysctl: sysctl(8) would read a VLAN's dot (eth0.100) as a path separator. */
function confSysctl(dev: string, key: string, value: string): Sysctl {
  return {
    name: `net.ipv4.conf.${dev.replaceAll('.', '/')}.${key}`,
    path: `/proc/sys/net/ipv4/conf/${dev}/${key}`,
    value,
  };
}

export interface PodRoutePlan {
  /** The pod namespace: apply after `host` (the host plan creates the veth pair). */
  readonly pod: Plan;
  /** The node namespace. */
  readonly host: Plan;
  /** sysctls to set in the pod namespace. */
  readonly sysctls: readonly Sysctl[];
  /** The policy table of each attached NIC (eth0 -> 100, net1 -> 101, ...). */
  readonly tables: Readonly<Record<string, number>>;
  /** The mode each attached NIC was planned in. */
  readonly modes: Readonly<Record<string, 'underlay' | 'overlay'>>;
}

/** The mark set on connections arriving from the node over veth0 (Spiderpool's reply-path mark). */
export const REPLY_MARK = 0x1;
/** The table of eth0 and of the reply path. */
export const ETH0_TABLE = 100;
export const POD_VETH = 'veth0';

interface NicInfo {
  readonly name: string;
  readonly index: number;
  readonly addrs: ReadonlyArray<{ addr: Addr; subnet: string; family: Family }>;
  readonly routes: readonly Route[];
  readonly mtu: number;
}

function checkTable(value: unknown, field: string): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > 0xffff_ffff ||
    (value >= 253 && value <= 255)
  ) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `${field}: ${show(value)} is not a usable route table (1..2^32-1, not 253-255)`,
      {
        field,
        value,
      },
    );
  }
  return value;
}

/** In fe80::/10, IPv6 link-local (fe80:: to febf::), as the kernel classifies it. */
function linkLocal6(text: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(text);
}

/** An optional list input; anything but an array is INVALID_ARGUMENT (not a TypeError deep inside). */
function listOf<T>(value: readonly T[] | undefined, field: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new RoutePlannerError('INVALID_ARGUMENT', `${field} must be a list, got ${show(value)}`, {
      field,
      value,
    });
  }
  return value;
}

function nicInfo(nic: PodNic, index: number): NicInfo {
  if (typeof nic?.name !== 'string' || !/^[^\s/]{1,15}$/.test(nic.name)) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `nics[${index}].name: ${show(nic?.name)} is not an interface name`,
      {
        field: `nics[${index}].name`,
        value: nic?.name,
      },
    );
  }
  const addrs = listOf(nic.addresses, `nics[${index}].addresses`).map((t, j) => {
    const a = ifaceAddrOf(t, `nics[${index}].addresses[${j}]`);
    return { addr: a.addr, subnet: a.subnet.toString(), family: a.addr.family };
  });
  const routes = listOf(nic.routes, `nics[${index}].routes`).map((r, j): Route => {
    const field = `nics[${index}].routes[${j}]`;
    const via = r.via === undefined ? undefined : addrOf(r.via, `${field}.via`);
    if (r.metric !== undefined) intIn(r.metric, 0, 0xffff_ffff, `${field}.metric`);
    let dst: string;
    let family: Family;
    if (r.dst === 'default') {
      family = via?.family ?? r.family ?? 4;
      if (family !== 4 && family !== 6) {
        throw new RoutePlannerError('INVALID_ARGUMENT', `${field}.family: ${show(family)} is not 4 or 6`, {
          field: `${field}.family`,
          value: family,
        });
      }
      dst = 'default';
    } else ({ dst, family } = dstOf(r.dst, `${field}.dst`));
    if (via !== undefined && via.family !== family) {
      throw new RoutePlannerError(
        'INVALID_ARGUMENT',
        `${field}: via ${via} is not of the family of ${show(r.dst)}`,
        { field },
      );
    }
    return canonRoute({
      family,
      table: TABLE_MAIN,
      dst,
      ...(via !== undefined && { via: via.toString() }),
      dev: nic.name,
      ...(r.scope !== undefined && { scope: r.scope }),
      ...(r.src !== undefined && { src: addrOf(r.src, `${field}.src`).toString() }),
      ...(r.metric !== undefined && { metric: r.metric }),
    });
  });
  return {
    name: nic.name,
    index,
    addrs,
    routes,
    mtu: intIn(nic.mtu ?? 1500, 68, 65535, `nics[${index}].mtu`),
  };
}

/** Builder for one namespace's plan; routes are keyed so that a later decision replaces an earlier one. */
class NsPlan {
  readonly devices = new Map<string, Device>();
  readonly routes = new Map<string, Route>();
  readonly ruleMap = new Map<string, Rule>();
  readonly neighbours: Neighbour[] = [];
  readonly mangle: MangleRule[] = [];
  route(r: Route): void {
    const c = canonRoute(r);
    this.routes.set(routeKey(c), c);
  }
  /** A later rule with the same selector and priority replaces an earlier one (the last NIC's decision wins). */
  rule(r: Rule): void {
    this.ruleMap.set(ruleKey(r), r);
  }
  /** Removes `r` only: another NIC's route may hold the same key (two defaults at one metric). */
  unroute(r: Route): void {
    const c = canonRoute(r);
    const k = routeKey(c);
    if (JSON.stringify(this.routes.get(k)) === JSON.stringify(c)) this.routes.delete(k);
  }
  build(): Plan {
    return canonicalPlan({
      devices: [...this.devices.values()],
      routes: [...this.routes.values()],
      rules: [...this.ruleMap.values()],
      neighbours: this.neighbours,
      mangle: this.mangle,
    });
  }
}

/**
 * Plan the routes of a multi-NIC pod the way Spiderpool's coordinator does, as the desired state of the pod
 * and node namespaces after every NIC up to `currentNIC` has been attached (each planned in order).
 * Diff it against what the kernel has (parseIpJson + scopeToPlan) to get the commands.
 */
export function planPodRoutes(input: PodRouteInput): PodRoutePlan {
  if (!Array.isArray(input?.nics) || input.nics.length === 0) {
    throw new RoutePlannerError('INVALID_ARGUMENT', 'nics must list at least one NIC (eth0 first)', {
      field: 'nics',
    });
  }
  const nics = input.nics.map(nicInfo);
  const names = new Set<string>();
  for (const n of nics) {
    if (names.has(n.name))
      throw new RoutePlannerError('DUPLICATE_NAME', `NIC ${show(n.name)} is listed twice`, { nic: n.name });
    names.add(n.name);
  }
  const current = input.currentNIC ?? nics[nics.length - 1]!.name;
  const last = nics.findIndex((n) => n.name === current);
  if (last < 0)
    throw new RoutePlannerError('UNKNOWN_NIC', `currentNIC ${show(current)} is not one of the pod's NICs`, {
      nic: current,
    });
  const defaultNIC = input.podDefaultRouteNIC ?? nics[0]!.name;
  if (!names.has(defaultNIC)) {
    throw new RoutePlannerError(
      'UNKNOWN_NIC',
      `podDefaultRouteNIC ${show(defaultNIC)} (ipam.spidernet.io/default-route-nic) names no NIC of the pod: ${[...names].join(', ')}`,
      { nic: defaultNIC, nics: [...names] },
    );
  }
  const mode = input.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'underlay' && mode !== 'overlay') {
    throw new RoutePlannerError('INVALID_ARGUMENT', `mode: ${show(mode)} is not underlay, overlay or auto`, {
      field: 'mode',
      value: mode,
    });
  }
  const tune = input.tunePodRoutes ?? true;
  if (typeof tune !== 'boolean') {
    throw new RoutePlannerError('INVALID_ARGUMENT', `tunePodRoutes: ${show(tune)} is not true or false`, {
      field: 'tunePodRoutes',
      value: tune,
    });
  }
  const rp = input.podRPFilter ?? 0;
  if (rp !== -1 && rp !== 0 && rp !== 1 && rp !== 2) intIn(rp, -1, 2, 'podRPFilter');
  const hostTable = checkTable(input.hostRuleTable ?? 500, 'hostRuleTable');
  const prio = intIn(input.rulePriority ?? 1000, 1, 32765, 'rulePriority');
  const nodeIPs = listOf(input.nodeIPs, 'nodeIPs').map((t, i) => addrOf(t, `nodeIPs[${i}]`));
  const nodeIPOf = (f: Family) => nodeIPs.find((a) => a.family === f);
  const cidrs = [
    ...listOf(input.clusterPodCIDRs, 'clusterPodCIDRs').map((c, i) => dstOf(c, `clusterPodCIDRs[${i}]`)),
    ...listOf(input.serviceCIDRs, 'serviceCIDRs').map((c, i) => dstOf(c, `serviceCIDRs[${i}]`)),
    ...listOf(input.hijackCIDRs, 'hijackCIDRs').map((c, i) => dstOf(c, `hijackCIDRs[${i}]`)),
  ];
  const policyRoutes = listOf(input.policyRoutes, 'policyRoutes').map((r, i) => {
    const nic = r.nic ?? current;
    if (!names.has(nic))
      throw new RoutePlannerError('UNKNOWN_NIC', `policyRoutes[${i}].nic ${show(nic)} names no NIC`, { nic });
    const d = r.dst === 'default' ? undefined : dstOf(r.dst, `policyRoutes[${i}].dst`);
    const via = r.via === undefined ? undefined : addrOf(r.via, `policyRoutes[${i}].via`);
    const family = d?.family ?? via?.family ?? 4;
    if (via !== undefined && via.family !== family) {
      throw new RoutePlannerError(
        'INVALID_ARGUMENT',
        `policyRoutes[${i}]: via ${via} is not of the family of ${show(r.dst)}`,
        { field: `policyRoutes[${i}]` },
      );
    }
    return { nic, dst: d?.dst ?? 'default', family, via: via?.toString() };
  });
  const podKey = input.podKey ?? nics[0]!.addrs[0]?.addr.toString() ?? nics[0]!.name;
  const hostVeth = ifname(
    input.hostVethName ?? `veth${fnv1a(podKey).toString(16).padStart(8, '0')}`,
    'hostVethName',
  );
  const hostMAC =
    input.hostVethMAC === undefined ? macFromKey(`host|${podKey}`) : macOf(input.hostVethMAC, 'hostVethMAC');
  const podVethMAC =
    input.podVethMAC === undefined ? macFromKey(`pod|${podKey}`) : macOf(input.podVethMAC, 'podVethMAC');
  if (input.podMACPrefix !== undefined) macPrefixOf(input.podMACPrefix, 'podMACPrefix'); // fail before planning

  const pod = new NsPlan();
  const host = new NsPlan();
  // Two NICs' routes to one destination at one metric: the kernel keeps the first added (eth0's); with
  // tunePodRoutes the attached default-route NIC's is the one that stays in main.
  const attached = nics.slice(0, last + 1);
  const mainWinner = tune && attached.some((n) => n.name === defaultNIC) ? defaultNIC : nics[0]!.name;
  for (const n of [...attached].reverse()) if (n.name !== mainWinner) for (const r of n.routes) pod.route(r);
  for (const r of nics.find((n) => n.name === mainWinner)!.routes) pod.route(r);
  const tables: Record<string, number> = {};
  const modes: Record<string, 'underlay' | 'overlay'> = {};
  const podFamilies = new Set(nics.slice(0, last + 1).flatMap((n) => n.addrs.map((a) => a.family)));
  let veth = false;
  const eth0 = nics[0]!;

  // Move (or copy) a NIC's routes into a policy table, with its connected subnets and source rules.
  const sourceRoute = (from: NicInfo, table: number, moveDefault: boolean) => {
    for (const r of from.routes) {
      if (linkLocal6(r.dst)) continue;
      if (r.dst === 'default' && moveDefault) pod.unroute(r);
      pod.route({ ...r, table });
    }
    for (const a of from.addrs) {
      if (linkLocal6(a.addr.toString())) continue;
      pod.route({ family: a.family, table, dst: a.subnet, dev: from.name, scope: 'link' });
      pod.rule({ family: a.family, priority: prio, from: `${a.addr}/${a.addr.bitLength()}`, table });
    }
  };

  for (const nic of nics.slice(0, last + 1)) {
    const table = ETH0_TABLE + nic.index;
    tables[nic.name] = table;
    const m = mode === 'auto' ? (nic.name === 'eth0' || veth ? 'underlay' : 'overlay') : mode;
    modes[nic.name] = m;
    if (m === 'underlay' && !veth) {
      veth = true;
      host.devices.set(hostVeth, {
        kind: 'veth',
        name: hostVeth,
        mac: hostMAC,
        mtu: eth0.mtu,
        peer: POD_VETH,
        peerMac: podVethMAC,
      });
      pod.devices.set(POD_VETH, { kind: 'link', name: POD_VETH, mac: podVethMAC, up: true });
      for (const f of podFamilies) {
        const nodeIP = nodeIPOf(f);
        host.rule({ family: f, priority: 1000, table: hostTable });
        if (nodeIP === undefined) continue;
        // Reply path: connections the node opens over veth0 are answered over veth0, not the underlay NIC.
        pod.mangle.push(
          {
            family: f,
            chain: 'PREROUTING',
            order: 0,
            iif: POD_VETH,
            ctstate: 'NEW',
            action: 'set-mark',
            mark: REPLY_MARK,
          },
          // Only a new connection's packet saves: a later packet (mark 0) would overwrite the connmark.
          { family: f, chain: 'PREROUTING', order: 1, iif: POD_VETH, ctstate: 'NEW', action: 'save-mark' },
          { family: f, chain: 'OUTPUT', order: 0, action: 'restore-mark' },
        );
        pod.rule({ family: f, priority: 1000, fwmark: REPLY_MARK, table: ETH0_TABLE });
        pod.route({ family: f, table: ETH0_TABLE, dst: 'default', via: nodeIP.toString(), dev: POD_VETH });
      }
      for (const ip of nodeIPs)
        pod.neighbours.push({ dev: POD_VETH, dst: ip.toString(), lladdr: hostMAC, permanent: true });
    }
    const hijackDev = m === 'underlay' ? POD_VETH : eth0.name;
    const hijackTable = m === 'underlay' && nic.index > 0 ? table : TABLE_MAIN;
    for (const ip of nodeIPs) {
      if (!podFamilies.has(ip.family)) continue;
      pod.route({
        family: ip.family,
        table: hijackTable,
        dst: `${ip}/${ip.bitLength()}`,
        dev: hijackDev,
        scope: 'link',
      });
    }
    for (const c of cidrs) {
      const nodeIP = nodeIPOf(c.family);
      if (nodeIP === undefined || !podFamilies.has(c.family)) continue;
      pod.route({ family: c.family, table: hijackTable, dst: c.dst, via: nodeIP.toString(), dev: hijackDev });
    }
    if (m === 'underlay') {
      for (const a of nic.addrs) {
        host.route({
          family: a.family,
          table: hostTable,
          dst: `${a.addr}/${a.addr.bitLength()}`,
          dev: hostVeth,
          scope: 'link',
        });
        host.neighbours.push({ dev: hostVeth, dst: a.addr.toString(), lladdr: podVethMAC, permanent: true });
      }
    }
    if (tune && nic.index > 0) {
      if (defaultNIC !== nic.name) sourceRoute(nic, table, true);
      else sourceRoute(eth0, table, true); // the new NIC takes the default: eth0's routes move to its table
      if (m === 'overlay') {
        for (const a of eth0.addrs) {
          if (linkLocal6(a.addr.toString())) continue;
          pod.rule({
            family: a.family,
            priority: prio,
            from: `${a.addr}/${a.addr.bitLength()}`,
            table: ETH0_TABLE,
          });
        }
        for (const r of eth0.routes) if (r.dst === 'default') pod.route({ ...r, table: ETH0_TABLE });
      }
    }
    if (input.podMACPrefix !== undefined) {
      const first = nic.addrs.find((a) => a.family === 4) ?? nic.addrs[0];
      if (first)
        pod.devices.set(nic.name, {
          kind: 'link',
          name: nic.name,
          mac: podMAC(input.podMACPrefix, first.addr),
          up: true,
        });
    }
    for (const r of policyRoutes) {
      if (r.nic !== nic.name) continue;
      pod.route({
        family: r.family,
        table: nic.index === 0 ? ETH0_TABLE : table,
        dst: r.dst,
        ...(r.via !== undefined && { via: r.via }),
        dev: nic.name,
      });
    }
  }
  const sysctls: Sysctl[] =
    rp === -1
      ? []
      : ['all', ...nics.slice(0, last + 1).map((n) => n.name), ...(veth ? [POD_VETH] : [])]
          .map((d) => confSysctl(d, 'rp_filter', String(rp)))
          .sort((a, b) => (a.name < b.name ? -1 : 1));
  return { pod: pod.build(), host: host.build(), sysctls, tables, modes };
}
