import type { Family, Prefix } from '@isthmus/ipam';
import { tcpMss } from './mtu';

/** Clamp the MSS of TCP SYNs from `src` to `dst` down to `mss` (never raise it). */
export interface MssClampRule {
  readonly family: Family;
  readonly src: string;
  readonly dst: string;
  readonly mss: number;
}

/** Options of the firewall renderers. */
export interface MssRenderOptions {
  /** nft table name (family inet); default "isthmus_cable". */
  readonly table?: string;
  /** Chain name; default "mss_clamp" for nft, "ISTHMUS-MSS-CLAMP" for iptables. */
  readonly chain?: string;
  /** iptables: add the `-A FORWARD -j <chain>` jump (leave it out when re-applying with --noflush). */
  readonly jump?: boolean;
}

/** The remote subnets of one peer and the tunnel MTU towards it. */
export interface ClampGroup {
  readonly subnets: readonly Prefix[];
  readonly mtu: number;
}

/**
 * Both directions between every local subnet and every remote subnet of the same family, sorted by
 * (src, dst) in address order. Inner traffic of each family gets the MSS of the tunnel MTU for it.
 */
export function mssClampRules(local: readonly Prefix[], remotes: readonly ClampGroup[]): MssClampRule[] {
  // Emit in (src, dst) order directly: sort the sources once, and each side's destinations once.
  type Side = { p: Prefix; s: string; local: boolean; mss: { 4: number; 6: number } | null };
  const locals: Side[] = local
    .map((p) => ({ p, s: String(p), local: true, mss: null }))
    .sort((a, b) => a.p.compare(b.p));
  const far: Side[] = [];
  for (const g of remotes) {
    const mss = { 4: 0, 6: 0 };
    for (const r of g.subnets) {
      if (mss[r.family] === 0) mss[r.family] = tcpMss(g.mtu, r.family);
      far.push({ p: r, s: String(r), local: false, mss });
    }
  }
  far.sort((a, b) => a.p.compare(b.p));
  const sources = [...locals, ...far].sort((a, b) => a.p.compare(b.p));
  const rules: MssClampRule[] = [];
  for (const src of sources) {
    const family = src.p.family;
    for (const dst of src.local ? far : locals) {
      if (dst.p.family !== family) continue;
      const mss = (src.local ? dst.mss! : src.mss!)[family];
      rules.push({ family, src: src.s, dst: dst.s, mss });
    }
  }
  return rules;
}

/**
 * An `nft -f` script: an inet table with one forward chain at mangle priority that lowers the MSS
 * option of SYN and SYN-ACK segments larger than the tunnel allows. Re-applying replaces the table's
 * contents (the script adds, flushes, then fills it).
 */
export function renderMssClampNft(rules: readonly MssClampRule[], options: MssRenderOptions = {}): string {
  const table = options.table ?? 'isthmus_cable';
  const chain = options.chain ?? 'mss_clamp';
  const lines = [
    `add table inet ${table}`,
    `flush table inet ${table}`,
    `table inet ${table} {`,
    `\tchain ${chain} {`,
    '\t\ttype filter hook forward priority mangle; policy accept;',
  ];
  for (const r of rules) {
    const ip = r.family === 4 ? 'ip' : 'ip6';
    lines.push(
      `\t\t${ip} saddr ${r.src} ${ip} daddr ${r.dst} tcp flags & (syn | rst) == syn tcp option maxseg size > ${r.mss} tcp option maxseg size set ${r.mss}`,
    );
  }
  lines.push('\t}', '}');
  return `${lines.join('\n')}\n`;
}

/**
 * An `iptables-restore --noflush` (family 4) or `ip6tables-restore --noflush` (family 6) script for
 * the mangle table: a chain of TCPMSS rules that only lower an MSS above the limit (`-m tcpmss`).
 */
export function renderMssClampIptables(
  rules: readonly MssClampRule[],
  family: Family,
  options: MssRenderOptions = {},
): string {
  const chain = options.chain ?? 'ISTHMUS-MSS-CLAMP';
  const lines = ['*mangle', `:${chain} - [0:0]`];
  if (options.jump !== false) lines.push(`-A FORWARD -j ${chain}`);
  for (const r of rules) {
    if (r.family !== family) continue;
    lines.push(
      `-A ${chain} -s ${r.src} -d ${r.dst} -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss ${r.mss + 1}:65535 -j TCPMSS --set-mss ${r.mss}`,
    );
  }
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}
