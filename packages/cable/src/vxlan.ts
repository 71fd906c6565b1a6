import { Addr, type Family, type Prefix } from '@isthmus/ipam';
import {
  type CommonCableOptions,
  checkInnerMtu,
  type ResolvedCable,
  type RoutePlan,
  resolveCable,
  sortRoutes,
} from './cable-context';
import { type EndpointChoice, type GatewayEndpoint, hostPort, type ParsedEndpoint } from './endpoint';
import { CableError, show } from './errors';
import { type MssClampRule, mssClampRules } from './mss';
import { tunnelMtu } from './mtu';
import { checkAddr, checkInt, checkInterfaceName, checkPrefix } from './validate';
import { renderRoutes } from './wireguard';

/**
 * Submariner's VXLAN cable defaults: device "vxlan-tunnel", VNI 1000, the cable port 4500, VTEP
 * addresses in 241.0.0.0/8 (IPv6: fd00:100:200::/96) carrying the low bits of the private IP.
 */
export const VXLAN_DEFAULTS = {
  interfaceName: 'vxlan-tunnel',
  vni: 1000,
  vtepCidr: { 4: '241.0.0.0/8', 6: 'fd00:100:200::/96' },
} as const;

export interface VxlanOptions extends CommonCableOptions {
  readonly driver: 'vxlan';
  /** Device name (default "vxlan-tunnel"). */
  readonly interfaceName?: string;
  /** VXLAN network identifier, 1 to 16777215 (default 1000). */
  readonly vni?: number;
  /** Where VTEP addresses come from when an endpoint has no `vtepIp` (default 241.0.0.0/8). */
  readonly vtepCidr?: string;
}

export interface VxlanPeer {
  readonly clusterId: string;
  readonly node: string | null;
  readonly endpoint: EndpointChoice;
  /** The remote VTEP address (the next hop of the routes). */
  readonly remoteVtep: string;
  readonly subnets: readonly string[];
}

/** A bridge FDB entry: unknown destinations (all-zero MAC) go to the remote gateway. */
export interface FdbEntry {
  readonly clusterId: string;
  readonly mac: '00:00:00:00:00:00';
  readonly dev: string;
  readonly dst: string;
  /** Remote UDP port when it differs from the device's port; null otherwise. */
  readonly port: number | null;
}

export interface VxlanPlan {
  readonly driver: 'vxlan';
  readonly localClusterId: string;
  readonly interfaceName: string;
  readonly vni: number;
  /** The UDP port (the device's dstport, which it also listens on). */
  readonly port: number;
  /** Learning stays off: the FDB is programmed from the plan. */
  readonly learning: false;
  /** The local underlay address (source of the outer packets). */
  readonly local: string;
  /** The local VTEP address with the VTEP prefix length ("241.0.0.1/8"). */
  readonly vtep: string;
  readonly underlayFamily: Family;
  /** Device MTU: link MTU - 50 (IPv4 underlay) or - 70 (IPv6). */
  readonly mtu: number;
  readonly localSubnets: readonly string[];
  readonly peers: readonly VxlanPeer[];
  readonly fdb: readonly FdbEntry[];
  readonly routes: readonly RoutePlan[];
  readonly mssClamp: readonly MssClampRule[];
}

/** The VTEP address of an endpoint: its own `vtepIp`, or the VTEP prefix with the private IP's low bits. */
function vtepOf(ep: ParsedEndpoint, vtepCidr: Prefix, role: string): Addr {
  if (ep.source.vtepIp !== undefined) {
    const v = checkAddr(ep.source.vtepIp, `${role}.vtepIp`);
    if (!vtepCidr.contains(v)) {
      throw new CableError('VTEP_CONFLICT', `${role}.vtepIp ${v} is not inside the VTEP prefix ${vtepCidr}`, {
        field: `${role}.vtepIp`,
        value: ep.source.vtepIp,
        vtepCidr: String(vtepCidr),
      });
    }
    return v;
  }
  const width = BigInt(ep.privateIp.bitLength() - vtepCidr.bits);
  const host = ep.privateIp.toBigInt() & ((1n << width) - 1n);
  return Addr.fromBigInt(ep.privateIp.family, vtepCidr.addr.toBigInt() | host);
}

/** Plans the VXLAN device of `local` with one FDB entry and route set per remote cluster. */
export function planVxlan(
  local: GatewayEndpoint,
  remotes: GatewayEndpoint | readonly GatewayEndpoint[],
  options: VxlanOptions,
): VxlanPlan {
  const interfaceName = checkInterfaceName(
    options.interfaceName ?? VXLAN_DEFAULTS.interfaceName,
    'interfaceName',
  );
  const vni = checkInt(options.vni ?? VXLAN_DEFAULTS.vni, 'vni', 1, 16777215);
  const cable: ResolvedCable = resolveCable(local, remotes, options);
  const family = cable.underlayFamily;
  const vtepCidr = checkPrefix(options.vtepCidr ?? VXLAN_DEFAULTS.vtepCidr[family], 'vtepCidr');
  if (vtepCidr.family !== family) {
    throw new CableError(
      'FAMILY_MISMATCH',
      `vtepCidr ${vtepCidr} is IPv${vtepCidr.family} but the underlay is IPv${family}`,
      { field: 'vtepCidr', value: options.vtepCidr },
    );
  }
  // One VXLAN device carries one inner family: the underlay's (Submariner has one device per family).
  const wrongFamily = (subnets: readonly Prefix[], who: string) => {
    const bad = subnets.find((s) => s.family !== family);
    if (bad !== undefined) {
      throw new CableError(
        'FAMILY_MISMATCH',
        `subnet ${bad} of ${who} is IPv${bad.family} but this VXLAN cable is IPv${family} (plan one cable per family)`,
        { subnet: String(bad), expected: family },
      );
    }
  };
  wrongFamily(cable.local.subnets, `cluster ${show(cable.local.clusterId)}`);
  for (const p of cable.peers) wrongFamily(p.ep.subnets, `cluster ${show(p.ep.clusterId)}`);

  const mtu = tunnelMtu('vxlan', {
    ...(options.linkMtu === undefined ? {} : { linkMtu: options.linkMtu }),
    underlayFamily: family,
  });
  const localVtep = vtepOf(cable.local, vtepCidr, 'local');
  const vteps = new Map<string, string>([[String(localVtep), cable.local.clusterId]]);
  const endpoints = new Map<string, string>();
  const src = cable.sourceIp === null ? null : String(cable.sourceIp);
  const peers: VxlanPeer[] = [];
  const fdb: FdbEntry[] = [];
  const routes: { p: Prefix; r: RoutePlan }[] = [];
  for (const { ep, choice } of cable.peers) {
    const vtep = String(vtepOf(ep, vtepCidr, `cluster ${show(ep.clusterId)}`));
    const holder = vteps.get(vtep);
    if (holder !== undefined) {
      throw new CableError(
        'VTEP_CONFLICT',
        `clusters ${show(holder)} and ${show(ep.clusterId)} would both use VTEP address ${vtep}; give one a vtepIp`,
        { vtep, a: holder, b: ep.clusterId },
      );
    }
    vteps.set(vtep, ep.clusterId);
    // All-zero-MAC entries to one dst are one kernel entry: a failover's `fdb del` would cut both off.
    const at = hostPort(choice.address, choice.port, family);
    const sharer = endpoints.get(at);
    if (sharer !== undefined) {
      throw new CableError(
        'ENDPOINT_CONFLICT',
        `clusters ${show(sharer)} and ${show(ep.clusterId)} would both be reached at ${at}; their FDB entries would be one (give each its own address or port)`,
        { address: choice.address, port: choice.port, a: sharer, b: ep.clusterId },
      );
    }
    endpoints.set(at, ep.clusterId);
    peers.push({
      clusterId: ep.clusterId,
      node: ep.node,
      endpoint: choice,
      remoteVtep: vtep,
      subnets: ep.subnets.map(String),
    });
    fdb.push({
      clusterId: ep.clusterId,
      mac: '00:00:00:00:00:00',
      dev: interfaceName,
      dst: choice.address,
      port: choice.port === cable.local.port ? null : choice.port,
    });
    for (const s of ep.subnets) {
      routes.push({
        p: s,
        r: { clusterId: ep.clusterId, dst: String(s), dev: interfaceName, via: vtep, src },
      });
    }
  }
  const remoteSubnets = cable.peers.flatMap((p) => p.ep.subnets);
  checkInnerMtu('vxlan', mtu, remoteSubnets);
  return {
    driver: 'vxlan',
    localClusterId: cable.local.clusterId,
    interfaceName,
    vni,
    port: cable.local.port,
    learning: false,
    local: String(cable.local.privateIp),
    vtep: `${localVtep}/${vtepCidr.bits}`,
    underlayFamily: family,
    mtu,
    localSubnets: cable.local.subnets.map(String),
    peers,
    fdb,
    routes: sortRoutes(routes),
    mssClamp: mssClampRules(cable.local.subnets, [{ subnets: remoteSubnets, mtu }]),
  };
}

/** `ip -batch` that creates the device, sets MTU and address, and adds the routes. */
export function renderVxlanIpBatch(plan: VxlanPlan): string {
  const out = [
    `link add name ${plan.interfaceName} type vxlan id ${plan.vni} local ${plan.local} dstport ${plan.port} nolearning`,
    `link set dev ${plan.interfaceName} mtu ${plan.mtu} up`,
    `addr replace ${plan.vtep} dev ${plan.interfaceName}`,
    ...renderRoutes(plan.routes),
  ];
  return `${out.join('\n')}\n`;
}

/** `bridge -batch` with the FDB entries (all-zero MAC: flood unknown destinations to the remote gateway). */
export function renderVxlanBridgeBatch(plan: VxlanPlan): string {
  const out = plan.fdb.map(
    (f) => `fdb append ${f.mac} dev ${f.dev} dst ${f.dst}${f.port === null ? '' : ` port ${f.port}`}`,
  );
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
