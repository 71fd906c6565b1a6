// The scenario's plan as rows a person reads (and --json prints): pure, built from the plans alone.
import type { CablePlan, Secret } from '@isthmus/cable';
import type { GlobalnetNatPlan } from '@isthmus/globalnet-ipam';
import { parseAddr, parsePrefix } from '@isthmus/ipam';
import type { Plan, Route } from '@isthmus/route-planner';
import { type ClusterName, type Scenario, sourcesOf } from '../../e2e/scenario';

export interface ClusterRow {
  readonly cluster: ClusterName;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly globalCidr: string;
  readonly egressIps: string;
  readonly gateway: string;
  readonly standby: string;
  readonly worker: string;
}

export interface GlobalIpRow {
  readonly cluster: ClusterName;
  readonly kind: 'egress' | 'service' | 'pod';
  readonly owner: string;
  /** What the global IP stands for inside its cluster. */
  readonly local: string;
  /** One address, or a contiguous block `a-b`. */
  readonly globalIp: string;
}

export interface PodRow {
  readonly pod: string;
  readonly cluster: ClusterName;
  readonly node: string;
  readonly eth0: string;
  readonly net1: string | null;
  readonly globalIp: string | null;
  /** The source a remote cluster sees for this pod's traffic. */
  readonly egressAs: string;
}

export interface RouteRow {
  /** Node or pod name. */
  readonly where: string;
  readonly table: string;
  readonly dst: string;
  readonly via: string;
  readonly dev: string;
  readonly note: string;
}

/** Devices, addresses, rules, FDB, neighbours, mangle and sysctls, one compact line per kind. */
export interface ExtraRow {
  readonly where: string;
  readonly kind: string;
  readonly entries: string;
}

export interface NatRow {
  readonly node: string;
  readonly type: 'DNAT' | 'SNAT';
  readonly match: string;
  readonly to: string;
  readonly owner: string;
}

export interface TunnelRow {
  readonly gateway: string;
  readonly driver: string;
  readonly device: string;
  readonly mtu: number;
  readonly local: string;
  readonly peer: string;
  readonly endpoint: string;
  readonly remoteSubnets: string;
  readonly presharedKey: string;
}

export interface KeyRow {
  readonly node: string;
  readonly publicKey: string;
  /** Always the redacted form: a Secret prints as `[redacted]`. */
  readonly privateKey: string;
}

export interface MtuRow {
  readonly item: string;
  readonly bytes: number;
  readonly note: string;
}

export interface ExpectationRow {
  readonly from: string;
  readonly fromIp: string;
  readonly to: string;
  readonly target: string;
  readonly expectedSource: string;
  readonly ping: boolean;
}

export interface PlanView {
  readonly driver: Scenario['driver'];
  readonly mode: Scenario['mode'];
  readonly clusters: readonly ClusterRow[];
  /** Pod and service CIDRs the two clusters share (the overlap Globalnet exists for). */
  readonly overlapping: readonly string[];
  /** True when no two clusters' global CIDRs overlap. */
  readonly globalCidrsDistinct: boolean;
  readonly globalIps: readonly GlobalIpRow[];
  readonly pods: readonly PodRow[];
  readonly nodeRoutes: readonly RouteRow[];
  readonly nodeExtras: readonly ExtraRow[];
  readonly podRoutes: readonly RouteRow[];
  readonly podExtras: readonly ExtraRow[];
  readonly nat: readonly NatRow[];
  /** Where the Globalnet NAT runs, and the remote global CIDRs its SNAT applies to. */
  readonly natScope: readonly { readonly node: string; readonly remoteGlobalCidrs: readonly string[] }[];
  readonly tunnels: readonly TunnelRow[];
  readonly endpointReasons: readonly string[];
  readonly keys: readonly KeyRow[];
  readonly mtu: readonly MtuRow[];
  readonly expectations: readonly ExpectationRow[];
}

/** `a-b` for consecutive IPv4 addresses, else the list joined. */
export function compactIps(ips: readonly string[]): string {
  if (ips.length <= 1) return ips.join('');
  const n = ips.map((ip) => parseAddr(ip));
  const consecutive = n.every((a, i) => i === 0 || n[i - 1]!.next()?.equals(a) === true);
  return consecutive ? `${ips[0]}-${ips[ips.length - 1]}` : ips.join(', ');
}

const tableName = (t: number) => (t === 254 ? 'main' : String(t));

function routeRows(where: string, routes: readonly Route[]): RouteRow[] {
  return routes.map((r) => ({
    where,
    table: tableName(r.table),
    dst: r.dst,
    via: r.via ?? '-',
    dev: r.dev ?? '-',
    note: [
      r.scope === 'link' ? 'scope link' : '',
      r.onlink ? 'onlink' : '',
      r.src === undefined ? '' : `src ${r.src}`,
      r.metric === undefined ? '' : `metric ${r.metric}`,
    ]
      .filter(Boolean)
      .join(' '),
  }));
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** One compact line per kind of entry in a plan (routes excluded: they get their own table). */
function extraRows(
  where: string,
  plan: Plan,
  sysctls: readonly { name: string; value: string }[] = [],
): ExtraRow[] {
  const rows: ExtraRow[] = [];
  const add = (kind: string, entries: readonly string[]) => {
    if (entries.length > 0) rows.push({ where, kind, entries: entries.join('; ') });
  };
  add(
    'device',
    plan.devices.map((d) => {
      const addrs = plan.addresses.filter((a) => a.dev === d.name).map((a) => a.address);
      const at = addrs.length === 0 ? '' : ` ${addrs.join(' ')}`;
      if (d.kind === 'vxlan') return `vxlan ${d.name} vni ${d.vni} port ${d.port} mtu ${d.mtu}${at}`;
      if (d.kind === 'veth') return `veth ${d.name} ↔ ${d.peer} mtu ${d.mtu}${at}`;
      return `${d.name} ${d.up ? 'up' : 'down'}${at}`;
    }),
  );
  const devices = new Set(plan.devices.map((d) => d.name));
  add(
    'address',
    plan.addresses.filter((a) => !devices.has(a.dev)).map((a) => `${a.address} dev ${a.dev}`),
  );
  add(
    'rule',
    plan.rules.map((r) => {
      const sel = [
        `from ${r.from ?? 'all'}`,
        r.to === undefined ? '' : `to ${r.to}`,
        r.fwmark === undefined
          ? ''
          : `fwmark ${hex(r.fwmark)}${r.mask === undefined ? '' : `/${hex(r.mask)}`}`,
      ].filter(Boolean);
      return `${r.priority}: ${sel.join(' ')} lookup ${tableName(r.table)}`;
    }),
  );
  const fdb = new Map<string, string[]>();
  for (const f of plan.fdb)
    fdb.set(`${f.dev} ${f.lladdr}`, [...(fdb.get(`${f.dev} ${f.lladdr}`) ?? []), f.dst]);
  for (const [k, dsts] of fdb) add('fdb', [`${k.split(' ')[1]} → ${dsts.join(', ')}`]);
  add(
    'neighbour',
    plan.neighbours.map((n) => `${n.dst} ${n.lladdr}${n.permanent ? '' : ' (not permanent)'}`),
  );
  add(
    'mangle',
    plan.mangle.map((m) =>
      [
        m.chain,
        m.iif === undefined ? '' : `iif ${m.iif}`,
        m.ctstate ?? '',
        m.action,
        m.mark === undefined ? '' : hex(m.mark),
      ]
        .filter(Boolean)
        .join(' '),
    ),
  );
  // Per-device sysctls with one value read as one entry: net.ipv4.conf.{all,eth0}.rp_filter=0.
  const byValue = new Map<string, { head: string; tail: string; devs: string[] }>();
  for (const x of sysctls) {
    const m = /^(.*\.conf)\.([^.]+)\.(.*)$/.exec(x.name);
    const [head, dev, tail] = m === null ? [x.name, null, ''] : [m[1]!, m[2]!, `.${m[3]!}=${x.value}`];
    const k = dev === null ? `${head}=${x.value}` : `${head}|${tail}`;
    const e = byValue.get(k) ?? { head: dev === null ? k : head, tail, devs: [] };
    if (dev !== null) e.devs.push(dev);
    byValue.set(k, e);
  }
  add(
    'sysctl',
    [...byValue.values()].map((e) =>
      e.devs.length === 0
        ? e.head
        : `${e.head}.${e.devs.length === 1 ? e.devs[0] : `{${e.devs.join(',')}}`}${e.tail}`,
    ),
  );
  return rows;
}

function natRows(node: string, plan: GlobalnetNatPlan): NatRow[] {
  const e = plan.egress;
  return [
    ...plan.ingress.map((i) => ({
      node,
      type: 'DNAT' as const,
      match: `dst ${i.globalIp}`,
      to: i.to,
      owner: i.owner,
    })),
    ...plan.healthChecks.map((h) => ({
      node,
      type: 'DNAT' as const,
      match: `icmp dst ${h.globalIp}`,
      to: h.to,
      owner: h.owner,
    })),
    ...[...e.pods, ...e.namespaces].map((s) => ({
      node,
      type: 'SNAT' as const,
      match: `src @${s.set} (${s.elements.join(', ')})`,
      to: s.to,
      owner: s.owner,
    })),
    ...[...e.headlessPods, ...e.headlessEndpoints, ...e.cluster].map((a) => ({
      node,
      type: 'SNAT' as const,
      match: `src ${a.source}`,
      to: a.to,
      owner: a.owner,
    })),
  ];
}

function tunnelRows(node: string, plan: CablePlan): TunnelRow[] {
  if (plan.driver === 'wireguard')
    return plan.peers.map((p) => ({
      gateway: node,
      driver: 'wireguard',
      device: plan.interfaceName,
      mtu: plan.mtu,
      local: `listen ${plan.listenPort}`,
      peer: `${p.clusterId}/${p.node ?? '?'}`,
      endpoint: `${p.endpoint.address}:${p.endpoint.port} (${p.endpoint.use})`,
      remoteSubnets: p.allowedIps.join(', '),
      presharedKey: p.presharedKey === null ? 'none' : String(p.presharedKey satisfies Secret),
    }));
  if (plan.driver === 'vxlan')
    return plan.peers.map((p) => ({
      gateway: node,
      driver: 'vxlan',
      device: plan.interfaceName,
      mtu: plan.mtu,
      local: `vni ${plan.vni} port ${plan.port} vtep ${plan.vtep}`,
      peer: `${p.clusterId}/${p.node ?? '?'}`,
      endpoint: `${p.endpoint.address}:${p.endpoint.port} (${p.endpoint.use})`,
      remoteSubnets: `${p.subnets.join(', ')} via ${p.remoteVtep}`,
      presharedKey: '-',
    }));
  return plan.connections.map((c) => ({
    gateway: node,
    driver: 'libreswan',
    device: c.name,
    mtu: c.mtu,
    local: c.left,
    peer: c.right,
    endpoint: c.right,
    remoteSubnets: c.rightSubnet,
    presharedKey: String(plan.psk),
  }));
}

function mtuRows(s: Scenario): MtuRow[] {
  const rows: MtuRow[] = [
    { item: `underlay ${s.underlay.device}`, bytes: s.underlay.mtu, note: 'link MTU of every node' },
  ];
  const seen = new Set<string>();
  for (const n of s.nodes)
    for (const d of n.routes.devices)
      if (d.kind === 'vxlan' && !seen.has(d.name)) {
        seen.add(d.name);
        const what = d.name === 'vx-submariner' ? 'worker ↔ gateway' : 'worker ↔ worker';
        rows.push({ item: d.name, bytes: d.mtu, note: `${what} (route-planner): link − 50` });
      }
  const cable = s.nodes.find((n) => n.cable !== null)?.cable;
  if (cable !== undefined && cable !== null) {
    const p = cable.plan;
    if (p.driver !== 'libreswan') {
      const overhead = s.underlay.mtu - p.mtu;
      rows.push({
        item: `cable ${p.interfaceName}`,
        bytes: p.mtu,
        note: `${p.driver} tunnel: link − ${overhead}`,
      });
    }
    const mss = [...new Set(p.mssClamp.map((m) => m.mss))];
    for (const m of mss)
      rows.push({ item: 'TCP MSS clamp', bytes: m, note: 'SYNs between global CIDRs, on the gateways' });
  }
  rows.push({
    item: 'largest DF ping',
    bytes: s.mtu.largestDfPing,
    note: `${s.mtu.from} → ${s.mtu.to}, limited by ${s.mtu.limitedBy}; one byte more must fail`,
  });
  return rows;
}

/** Every planned part of the scenario as rows; secrets appear only as Secret's redacted text. */
export function planView(s: Scenario): PlanView {
  const [a, b] = s.clusters;
  const overlap = (x: string, y: string) => parsePrefix(x).overlaps(parsePrefix(y));
  const natOf = (cluster: ClusterName): GlobalnetNatPlan =>
    s.nodes.find((n) => n.cluster === cluster && n.nat !== null)!.nat!.plan;
  const podIp = (name: string) => s.pods.find((p) => p.name === name)!.ip;

  const globalIps: GlobalIpRow[] = s.clusters.flatMap((c) => [
    {
      cluster: c.name,
      kind: 'egress' as const,
      owner: 'cluster',
      local: `${c.podCidr}, ${c.serviceCidr}`,
      globalIp: compactIps(c.egressIps),
    },
    {
      cluster: c.name,
      kind: 'service' as const,
      owner: `${c.service.namespace}/${c.service.name}`,
      local: `${c.service.clusterIp}:${c.service.port} → ${c.service.endpoints.map(podIp).join(', ')}`,
      globalIp: c.service.globalIp,
    },
    ...s.pods
      .filter((p) => p.cluster === c.name && p.globalIp !== null)
      .map((p) => ({
        cluster: c.name,
        kind: 'pod' as const,
        owner: `${p.namespace}/${p.name}`,
        local: p.ip,
        globalIp: p.globalIp!,
      })),
  ]);

  const natNodes = s.nodes.filter((n) => n.nat !== null);
  const cableNodes = s.nodes.filter((n) => n.cable !== null);
  const tunnels = cableNodes.flatMap((n) => tunnelRows(n.name, n.cable!.plan));
  const endpointReasons = [
    ...new Set(
      cableNodes.flatMap((n) => {
        const p = n.cable!.plan;
        return p.driver === 'libreswan' ? [] : p.peers.map((x) => x.endpoint.reason);
      }),
    ),
  ];

  return {
    driver: s.driver,
    mode: s.mode,
    clusters: s.clusters.map((c) => ({
      cluster: c.name,
      podCidr: c.podCidr,
      serviceCidr: c.serviceCidr,
      globalCidr: c.globalCidr,
      egressIps: compactIps(c.egressIps),
      gateway: c.gateway,
      standby: c.standby,
      worker: c.worker,
    })),
    overlapping: [
      ...(overlap(a.podCidr, b.podCidr)
        ? [a.podCidr === b.podCidr ? a.podCidr : `${a.podCidr} ~ ${b.podCidr}`]
        : []),
      ...(overlap(a.serviceCidr, b.serviceCidr)
        ? [a.serviceCidr === b.serviceCidr ? a.serviceCidr : `${a.serviceCidr} ~ ${b.serviceCidr}`]
        : []),
    ],
    globalCidrsDistinct: !overlap(a.globalCidr, b.globalCidr),
    globalIps,
    pods: s.pods.map((p) => ({
      pod: p.name,
      cluster: p.cluster,
      node: p.node,
      eth0: p.ip,
      net1: p.nics.find((n) => n.name === 'net1')?.addresses.join(', ') ?? null,
      globalIp: p.globalIp,
      egressAs: compactIps(sourcesOf(natOf(p.cluster), p.ip)),
    })),
    nodeRoutes: s.nodes.flatMap((n) => routeRows(n.name, n.routes.routes)),
    nodeExtras: s.nodes.flatMap((n) => extraRows(n.name, n.routes)),
    podRoutes: s.pods.flatMap((p) => routeRows(p.name, p.plan.pod.routes)),
    podExtras: s.pods.flatMap((p) => extraRows(p.name, p.plan.pod, p.plan.sysctls)),
    nat: natNodes.flatMap((n) => natRows(n.name, n.nat!.plan)),
    natScope: natNodes.map((n) => ({ node: n.name, remoteGlobalCidrs: n.nat!.plan.remoteGlobalCidrs })),
    tunnels,
    endpointReasons,
    keys:
      s.keys === null || s.mode !== 'gateway'
        ? []
        : Object.entries(s.keys).map(([node, k]) => ({
            node,
            publicKey: k.publicKey,
            privateKey: String(k.privateKey),
          })),
    mtu: mtuRows(s),
    expectations: s.expectations.map((x) => ({
      from: x.from,
      fromIp: podIp(x.from),
      to: `${x.to}:${x.port}`,
      target: `${x.target.kind} ${x.target.cluster}/${x.target.name}`,
      expectedSource: compactIps(x.expectedSources),
      ping: x.ping,
    })),
  };
}
