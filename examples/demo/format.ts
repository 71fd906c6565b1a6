// Text output of the demo: the plan view and the --apply results as short headed tables.
import type { FailoverResult, MatrixRow, MtuResult } from '../../e2e/kernel';
import { compactIps, type ExtraRow, type PlanView, type RouteRow } from './plan-view';
import { formatTable } from './table';

const section = (title: string, ...body: string[]) => [title, ...body.filter((b) => b !== '')].join('\n');

/** Blanks a repeated first cell so groups of rows read as one block. */
function grouped(rows: readonly (readonly string[])[]): string[][] {
  return rows.map((r, i) => (i > 0 && rows[i - 1]![0] === r[0] ? ['', ...r.slice(1)] : [...r]));
}

function routes(rows: readonly RouteRow[], what: string): string {
  return formatTable(
    [what, 'table', 'destination', 'via', 'device', 'note'],
    grouped(rows.map((r) => [r.where, r.table, r.dst, r.via, r.dev, r.note])),
  );
}

function extras(rows: readonly ExtraRow[], what: string): string {
  return formatTable([what, 'kind', 'entries'], grouped(rows.map((r) => [r.where, r.kind, r.entries])));
}

/** The whole plan; `brief` keeps the header, clusters and global IPs (the context of --apply results). */
export function renderPlanText(v: PlanView, brief = false): string {
  const header = [
    `isthmus demo: two clusters with overlapping CIDRs joined by Globalnet · driver ${v.driver} · mode ${v.mode}`,
    v.mode === 'p2p' ? '(P2P mode: workers meet directly; the cable driver is not used)' : '',
  ].filter(Boolean);

  const clusters = section(
    'Clusters',
    formatTable(
      ['cluster', 'pod CIDR', 'service CIDR', 'global CIDR', 'gateway', 'standby', 'worker'],
      v.clusters.map((c) => [
        c.cluster,
        c.podCidr,
        c.serviceCidr,
        c.globalCidr,
        c.gateway,
        c.standby,
        c.worker,
      ]),
    ),
    `  overlapping: ${v.overlapping.join(', ') || 'none'} · global CIDRs ${v.globalCidrsDistinct ? 'distinct' : 'OVERLAP'}`,
  );

  const globalIps = section(
    'Global IPs',
    formatTable(
      ['cluster', 'kind', 'owner', 'inside the cluster', 'global IP'],
      grouped(v.globalIps.map((g) => [g.cluster, g.kind, g.owner, g.local, g.globalIp])),
    ),
  );

  const pods = section(
    'Pods',
    formatTable(
      ['pod', 'cluster', 'node', 'eth0', 'net1', 'global IP', 'seen remotely as'],
      v.pods.map((p) => [p.pod, p.cluster, p.node, p.eth0, p.net1 ?? '-', p.globalIp ?? '-', p.egressAs]),
    ),
  );

  const nodeRoutes = section(
    'Node routes (route-planner)',
    v.nodeRoutes.length === 0 ? '  (none)' : routes(v.nodeRoutes, 'node'),
    v.nodeExtras.length === 0 ? '' : extras(v.nodeExtras, 'node'),
    '  (the CNI stand-in adds host-gw routes between nodes and a /32 per local pod: see --json)',
  );
  const podRoutes = section(
    'Pod routes (planPodRoutes)',
    routes(v.podRoutes, 'pod'),
    extras(v.podExtras, 'pod'),
  );

  const nat = section(
    'NAT (Globalnet, nft table isthmus-globalnet)',
    formatTable(
      ['node', 'type', 'match', 'to', 'owner'],
      grouped(v.nat.map((n) => [n.node, n.type, n.match, n.to, n.owner])),
    ),
    ...v.natScope.map((s) => `  ${s.node}: SNAT only toward ${s.remoteGlobalCidrs.join(', ')}`),
  );

  const tunnel =
    v.tunnels.length === 0
      ? section('Tunnel', '  no cable in P2P mode: the workers meet over VXLAN (the vx-bridge device above)')
      : section(
          `Tunnel (cable, ${v.driver})`,
          formatTable(
            ['gateway', 'device', 'MTU', 'local', 'peer', 'endpoint', 'remote subnets', 'PSK'],
            v.tunnels.map((t) => [
              t.gateway,
              t.device,
              String(t.mtu),
              t.local,
              t.peer,
              t.endpoint,
              t.remoteSubnets,
              t.presharedKey,
            ]),
          ),
          ...v.endpointReasons.map((r) => `  endpoints: ${r}`),
          v.keys.length === 0
            ? ''
            : formatTable(
                ['node', 'public key', 'private key'],
                v.keys.map((k) => [k.node, k.publicKey, k.privateKey]),
              ),
        );

  const mtu = section(
    'MTU and MSS',
    formatTable(
      ['item', 'bytes', 'why'],
      v.mtu.map((m) => [m.item, String(m.bytes), m.note]),
      { align: ['left', 'right', 'left'] },
    ),
  );

  const checks = section(
    'What --apply checks (every pod to every remote global IP)',
    formatTable(
      ['from', 'pod IP', 'to', 'target', 'receiver must see', 'ping'],
      grouped(
        v.expectations.map((x) => [x.from, x.fromIp, x.to, x.target, x.expectedSource, x.ping ? 'yes' : '-']),
      ),
    ),
  );

  const parts = brief
    ? [header.join('\n'), clusters, globalIps]
    : [header.join('\n'), clusters, globalIps, pods, nodeRoutes, podRoutes, nat, tunnel, mtu, checks];
  return `${parts.join('\n\n')}\n`;
}

const ms = (n: number | null) => (n === null ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1));

export function renderMatrixText(rows: readonly MatrixRow[]): string {
  const passed = rows.filter((r) => r.pass).length;
  return section(
    `Connectivity matrix: ${passed}/${rows.length} passed`,
    formatTable(
      ['from', 'source', 'destination', 'target', 'receiver saw', 'expected', 'TCP ms', 'ping ms', 'result'],
      grouped(
        rows.map((r) => [
          r.from,
          r.fromIp,
          r.to,
          `${r.target.kind} ${r.target.cluster}/${r.target.name}`,
          r.tcp.seen ?? r.tcp.error ?? '-',
          compactIps(r.expectedSources),
          ms(r.tcp.ms),
          r.ping === null ? '-' : r.ping.ok ? ms(r.ping.rttMs) : 'lost',
          r.pass ? 'pass' : 'FAIL',
        ]),
      ),
      { align: ['left', 'left', 'left', 'left', 'left', 'left', 'right', 'right', 'left'] },
    ),
  );
}

/**
 * The MTU proof passes when the planned size gets through and one byte more is refused with an error
 * that reports exactly the planned MTU (a different one means the path is not what the plans say).
 */
export function mtuPassed(m: MtuResult): boolean {
  return m.largest.ok && !m.overByOne.ok && m.overByOne.reportedMtu === m.planned;
}

export function renderMtuText(m: MtuResult): string {
  const over = m.overByOne.ok
    ? 'got through (should not)'
    : m.overByOne.reportedMtu === null
      ? 'dropped without an error'
      : m.overByOne.reportedMtu === m.planned
        ? `refused: mtu ${m.overByOne.reportedMtu}`
        : `refused: mtu ${m.overByOne.reportedMtu}, but ${m.planned} was planned`;
  return section(
    `MTU check: ${mtuPassed(m) ? 'pass' : 'FAIL'}`,
    formatTable(
      ['DF ping (IPv4 bytes)', 'result'],
      [
        [`${m.planned} (planned, limited by ${m.limitedBy})`, m.largest.ok ? 'replied' : 'no reply'],
        [String(m.planned + 1), over],
      ],
    ),
  );
}

export function renderFailoverText(f: Omit<FailoverResult, 'change'>): string {
  return section(
    `Failover: ${f.cluster} gateway ${f.from} → ${f.to} (${f.action}), traffic back after ${f.firstReplyMs} ms`,
    formatTable(
      ['since the cut', 'ms'],
      [
        ['standby elected (lease expired)', String(f.electedMs)],
        ['plans applied', String(f.appliedMs)],
        [`first reply ${f.probe.from} → ${f.probe.to}`, String(f.firstReplyMs)],
      ],
      { align: ['left', 'right'] },
    ),
  );
}
