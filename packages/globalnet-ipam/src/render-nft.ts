// nftables text for a NAT plan: one table of our own per family, declared, deleted and defined again in
// one `nft -f` transaction, so applying it twice gives the same ruleset and no other rule is touched.
import { GlobalnetError, show } from './errors';
import type { GlobalnetNatPlan } from './nat-plan';
import type { RemapNatPlan } from './remap-nat';

export const DEFAULT_NFT_TABLE = 'isthmus-globalnet';
export const DEFAULT_REMAP_NFT_TABLE = 'isthmus-remap';
/** The mark of GLOBALNET_MARK as nft writes it. */
const MARK = '0x000c0000';

export interface RenderNftOptions {
  /** Table name; default `isthmus-globalnet` (Globalnet plans) or `isthmus-remap` (remap plans). */
  readonly table?: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function tableName(opts: RenderNftOptions | undefined, fallback: string): string {
  const t = opts?.table ?? fallback;
  if (typeof t !== 'string' || !NAME.test(t)) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `nft table name ${show(t)} must be a letter then letters, digits, '-' or '_'`,
      {
        field: 'table',
        value: t,
      },
    );
  }
  return t;
}

function elements(items: readonly string[]): string {
  return items.length === 0 ? '' : `\t\telements = {\n${items.map((e) => `\t\t\t${e}`).join(',\n')}\n\t\t}\n`;
}

function set(name: string, type: string, items: readonly string[], interval = false): string {
  return `\tset ${name} {\n\t\ttype ${type}\n${interval ? '\t\tflags interval\n' : ''}${elements(items)}\t}\n`;
}

function map(name: string, type: string, items: ReadonlyArray<readonly [string, string]>): string {
  return `\tmap ${name} {\n\t\ttype ${type} : ${type}\n${elements(items.map(([k, v]) => `${k} : ${v}`))}\t}\n`;
}

function chain(name: string, hook: string, rules: readonly string[]): string {
  return `\tchain ${name} {\n\t\t${hook}\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n`;
}

function table(family: 'ip' | 'ip6', name: string, body: readonly string[]): string {
  return `table ${family} ${name}\ndelete table ${family} ${name}\ntable ${family} ${name} {\n${body.join('\n')}}\n`;
}

// One below the standard NAT priorities: the first NAT chain to bind a connection wins, so a CNI's masquerade
// at srcnat (whatever its load order) would otherwise take traffic before our SNAT sees it.
const DSTNAT = 'type nat hook prerouting priority dstnat - 1; policy accept;';
const SRCNAT = 'type nat hook postrouting priority srcnat - 1; policy accept;';

function renderGlobalnet(plan: GlobalnetNatPlan, name: string): string {
  const ip = plan.family === 4 ? 'ip' : 'ip6';
  const type = plan.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const icmp = plan.family === 4 ? 'ip protocol icmp' : 'meta l4proto ipv6-icmp';
  const e = plan.egress;
  const body = [
    set('remote-globals', type, plan.remoteGlobalCidrs, true),
    map(
      'ingress',
      type,
      plan.ingress.map((i) => [i.globalIp, i.to]),
    ),
    map(
      'hdls-pods',
      type,
      e.headlessPods.map((h) => [h.source, h.to]),
    ),
    map(
      'hdls-eps',
      type,
      e.headlessEndpoints.map((h) => [h.source, h.to]),
    ),
    ...e.pods.map((s) => set(s.set, type, s.elements)),
    ...e.namespaces.map((s) => set(s.set, type, s.elements)),
    chain('gn-ingress', DSTNAT, [
      ...plan.healthChecks.map((h) => `${ip} daddr ${h.globalIp} ${icmp} dnat to ${h.to}`),
      `dnat to ${ip} daddr map @ingress`,
    ]),
    chain('gn-egress', SRCNAT, [
      `${ip} daddr @remote-globals meta mark set meta mark | ${MARK}`,
      `meta mark & ${MARK} != ${MARK} return`,
      ...e.pods.map((s) => `${ip} saddr @${s.set} snat to ${s.to}`),
      `snat to ${ip} saddr map @hdls-pods`,
      `snat to ${ip} saddr map @hdls-eps`,
      ...e.namespaces.map((s) => `${ip} saddr @${s.set} snat to ${s.to}`),
      ...e.cluster.map((c) => `${ip} saddr ${c.source} snat to ${c.to}`),
    ]),
  ];
  return table(ip, name, body);
}

function renderRemap(plan: RemapNatPlan, name: string): string {
  const out: string[] = [];
  for (const family of [4, 6] as const) {
    const peers = plan.peers.filter((p) => p.family === family);
    if (peers.length === 0) continue;
    const ip = family === 4 ? 'ip' : 'ip6';
    const type = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const pairs = (l: ReadonlyArray<{ from: string; to: string }>) =>
      l.map((m) => `${m.from} : ${m.to}`).join(', ');
    const body = [
      ...peers.map((p) => set(p.set, type, p.peerSeenAs, true)),
      chain(
        'remap-in',
        DSTNAT,
        peers
          .filter((p) => p.dnat.length > 0)
          .map((p) => `${ip} saddr @${p.set} dnat ${ip} prefix to ${ip} daddr map { ${pairs(p.dnat)} }`),
      ),
      chain(
        'remap-out',
        SRCNAT,
        peers
          .filter((p) => p.snat.length > 0)
          .map((p) => `${ip} daddr @${p.set} snat ${ip} prefix to ${ip} saddr map { ${pairs(p.snat)} }`),
      ),
    ];
    out.push(table(ip, name, body));
  }
  return out.join('\n');
}

/**
 * An `nft -f` script for a plan: a Globalnet plan (sets, maps, a dstnat chain at prerouting and a srcnat
 * chain at postrouting in `table ip|ip6 isthmus-globalnet`) or a remap plan (prefix-to-prefix NAT in
 * `table ip|ip6 isthmus-remap`). Applying it twice gives the same ruleset.
 */
export function renderNft(plan: GlobalnetNatPlan | RemapNatPlan, opts?: RenderNftOptions): string {
  if (plan?.kind === 'globalnet') return renderGlobalnet(plan, tableName(opts, DEFAULT_NFT_TABLE));
  if (plan?.kind === 'remap') return renderRemap(plan, tableName(opts, DEFAULT_REMAP_NFT_TABLE));
  const kind = (plan as { kind?: unknown } | null)?.kind;
  throw new GlobalnetError(
    'INVALID_ARGUMENT',
    `renderNft needs a globalnet or remap plan, got kind ${show(kind)}`,
    {
      value: kind,
    },
  );
}
