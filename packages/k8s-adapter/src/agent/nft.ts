// The NAT part of a node plan, pure: which of isthmus's nft tables exist, and a handle-free view of
// one table's listing, so the agent can tell whether the table still holds what it loaded.
import { DEFAULT_NFT_TABLE } from '@isthmus/globalnet-ipam';
import { AgentError } from './errors';

export const NAT_TABLE = DEFAULT_NFT_TABLE;

/** An nft table family the agent manages a NAT table in. */
export type NftFamily = 'ip' | 'ip6';

function items(json: unknown, what: string): Record<string, unknown>[] {
  const list = (json as { nftables?: unknown } | null)?.nftables;
  if (!Array.isArray(list)) {
    throw new AgentError('PARSE_ERROR', `${what}: expected {"nftables": [...]}`, { what });
  }
  return list.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

/** The families in which a table named `name` exists, from `nft -j list tables`. */
export function tablesNamed(json: unknown, name: string = NAT_TABLE): NftFamily[] {
  const out = new Set<NftFamily>();
  for (const item of items(json, 'nft -j list tables')) {
    const t = item.table as { family?: unknown; name?: unknown } | undefined;
    if (t?.name === name && (t.family === 'ip' || t.family === 'ip6')) out.add(t.family);
  }
  return [...out].sort();
}

function stripHandles(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripHandles);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'handle') out[k] = stripHandles(v);
  return out;
}

/**
 * `nft -j list table <family> <name>` without metainfo and object handles (which change on every
 * load): two loads of one script give the same text, and any edit to the table changes it.
 */
export function tableFingerprint(json: unknown): string {
  return JSON.stringify(stripHandles(items(json, 'nft -j list table').filter((x) => !('metainfo' in x))));
}

/** The family a NAT plan of address family 4 or 6 lives in. */
export function nftFamily(family: 4 | 6): NftFamily {
  return family === 4 ? 'ip' : 'ip6';
}
