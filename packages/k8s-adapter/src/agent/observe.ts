// Reading the kernel: the I/O (`readDumps`: run the dump commands) apart from the parsing
// (`parseDumps`: text in, observed state out, pure).
import { type Plan, parseIpJson, RoutePlannerError } from '@isthmus/route-planner';
import { AgentError } from './errors';
import { NAT_TABLE, type NftFamily, tableFingerprint, tablesNamed } from './nft';
import type { CommandRunner } from './runner';
import { parseWgDump, type WgState } from './wireguard';

/** What a pass needs read besides routes, rules, neighbours, FDB, links and addresses. */
export interface ObserveScope {
  /** Read the mangle table (plans with reply-path rules). */
  readonly mangle: boolean;
  /** Read isthmus's nft tables; when false a missing `nft` is not an error. */
  readonly nat: boolean;
  /** The WireGuard device to read with `wg show <if> dump`. */
  readonly wireguard?: string;
}

/** The raw output of every dump command (stdout text; null where a device or tool is absent). */
export interface KernelDumps {
  readonly routes: string;
  readonly routes6: string;
  readonly rules: string;
  readonly rules6: string;
  readonly neigh: string;
  readonly fdb: string;
  readonly links: string;
  readonly addrs: string;
  readonly iptables?: string;
  readonly ip6tables?: string;
  /** `nft -j list tables`, or null when nft is not there and no NAT is planned. */
  readonly nftTables: string | null;
  /** `nft -j list table <family> isthmus-globalnet` for each family the table exists in. */
  readonly nftTable: Partial<Record<NftFamily, string>>;
  /** `wg show <if> dump`, or null when the device does not exist. */
  readonly wg: string | null;
}

/** A link's MTU and administrative state. */
export interface LinkState {
  readonly name: string;
  readonly mtu: number;
  readonly up: boolean;
}

/** The kernel as one pass sees it. */
export interface Observed {
  /** Everything parseIpJson understands, unscoped. */
  readonly plan: Plan;
  readonly links: ReadonlyMap<string, LinkState>;
  /** Families in which isthmus's NAT table exists. */
  readonly natTables: readonly NftFamily[];
  /** Handle-free listing of the NAT table, by family. */
  readonly natFingerprints: Partial<Record<NftFamily, string>>;
  readonly wireguard: WgState | null;
}

async function must(run: CommandRunner, cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new AgentError('COMMAND_FAILED', `${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`, {
      cmd,
      args,
      exitCode: r.code,
    });
  }
  return r.stdout;
}

/** Runs the dump commands through `run`. Reads only; changes nothing. */
export async function readDumps(run: CommandRunner, scope: ObserveScope): Promise<KernelDumps> {
  const ip = (args: string[]) => must(run, 'ip', args);
  const [routes, routes6, rules, rules6, neigh, fdb, links, addrs] = await Promise.all([
    ip(['-json', 'route', 'show', 'table', 'all']),
    ip(['-6', '-json', 'route', 'show', 'table', 'all']),
    ip(['-json', 'rule', 'show']),
    ip(['-6', '-json', 'rule', 'show']),
    ip(['-json', 'neigh', 'show']),
    must(run, 'bridge', ['-json', 'fdb', 'show']),
    ip(['-json', '-details', 'link', 'show']),
    ip(['-json', 'addr', 'show']),
  ]);
  const mangle = scope.mangle
    ? {
        iptables: await must(run, 'iptables-save', ['-t', 'mangle']),
        ip6tables: await must(run, 'ip6tables-save', ['-t', 'mangle']),
      }
    : {};
  let nftTables: string | null = null;
  const nftTable: Partial<Record<NftFamily, string>> = {};
  const listed = await run('nft', ['-j', 'list', 'tables']).catch(() => null);
  if (listed !== null && listed.code === 0) {
    nftTables = listed.stdout;
    for (const fam of tablesNamed(JSON.parse(listed.stdout || '{"nftables":[]}'))) {
      nftTable[fam] = await must(run, 'nft', ['-j', 'list', 'table', fam, NAT_TABLE]);
    }
  } else if (scope.nat) {
    throw new AgentError(
      'COMMAND_FAILED',
      `nft -j list tables failed: ${listed?.stderr.trim() ?? 'nft not found'}`,
      {
        cmd: 'nft',
      },
    );
  }
  let wg: string | null = null;
  if (scope.wireguard !== undefined) {
    const linkList = JSON.parse(links || '[]') as Array<{ ifname?: string }>;
    if (linkList.some((l) => l.ifname === scope.wireguard)) {
      wg = await must(run, 'wg', ['show', scope.wireguard, 'dump']);
    }
  }
  return { routes, routes6, rules, rules6, neigh, fdb, links, addrs, ...mangle, nftTables, nftTable, wg };
}

function json(text: string, what: string): unknown {
  if (text.trim() === '') return [];
  try {
    return JSON.parse(text);
  } catch {
    throw new AgentError('PARSE_ERROR', `${what}: the output is not JSON`, { what });
  }
}

/** Parses the dumps into what a pass compares with the plan. Pure. */
export function parseDumps(d: KernelDumps): Observed {
  let plan: Plan;
  try {
    plan = parseIpJson({
      routes: json(d.routes, 'ip -json route'),
      routes6: json(d.routes6, 'ip -6 -json route'),
      rules: json(d.rules, 'ip -json rule'),
      rules6: json(d.rules6, 'ip -6 -json rule'),
      neigh: json(d.neigh, 'ip -json neigh'),
      fdb: json(d.fdb, 'bridge -json fdb'),
      links: json(d.links, 'ip -json link'),
      addrs: json(d.addrs, 'ip -json addr'),
      ...(d.iptables === undefined ? {} : { iptables: d.iptables }),
      ...(d.ip6tables === undefined ? {} : { ip6tables: d.ip6tables }),
    });
  } catch (e) {
    if (RoutePlannerError.isInstance(e)) throw new AgentError('PARSE_ERROR', e.message, { cause: e.code });
    throw e;
  }
  const links = new Map<string, LinkState>();
  for (const l of json(d.links, 'ip -json link') as Array<Record<string, unknown>>) {
    if (typeof l.ifname !== 'string') continue;
    const flags = Array.isArray(l.flags) ? l.flags : [];
    links.set(l.ifname, { name: l.ifname, mtu: Number(l.mtu), up: flags.includes('UP') });
  }
  const natTables = d.nftTables === null ? [] : tablesNamed(json(d.nftTables, 'nft -j list tables'));
  const natFingerprints: Partial<Record<NftFamily, string>> = {};
  for (const fam of natTables) {
    const text = d.nftTable[fam];
    if (text !== undefined) natFingerprints[fam] = tableFingerprint(json(text, `nft -j list table ${fam}`));
  }
  return { plan, links, natTables, natFingerprints, wireguard: d.wg === null ? null : parseWgDump(d.wg) };
}
