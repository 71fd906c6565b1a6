// The WireGuard part of a node plan, pure: read `wg show <if> dump` back (without its key material),
// decide whether the device matches the plan, and render the `wg setconf` text.
import type { Secret } from '@isthmus/cable';
import { tryParseAddr, tryParsePrefix } from '@isthmus/ipam';
import type { NodeCableSpec } from '../resources';
import { AgentError, show } from './errors';

/** A peer as `wg show <if> dump` reports it; the pre-shared key is dropped on reading. */
export interface WgPeerState {
  readonly publicKey: string;
  /** Canonical "ip:port" ("[v6]:port"), or null when none is known. */
  readonly endpoint: string | null;
  /** Canonical CIDRs, sorted. */
  readonly allowedIPs: readonly string[];
  /** 0 when off. */
  readonly persistentKeepalive: number;
}

/** A WireGuard device as `wg show <if> dump` reports it; the private key is dropped on reading. */
export interface WgState {
  /** The public key of the device's private key, or null when it has none. */
  readonly publicKey: string | null;
  readonly listenPort: number;
  /** Sorted by public key. */
  readonly peers: readonly WgPeerState[];
}

function byKey<T extends { publicKey: string }>(a: T, b: T): number {
  return a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0;
}

function canonCidrs(list: readonly string[], what: string): string[] {
  const out = list.map((c) => {
    // A host route in wg's output ("10.0.0.1/32") and a plan's CIDR both canonicalise the same way.
    const p = typeof c === 'string' ? tryParsePrefix(c) : undefined;
    if (p === undefined)
      throw new AgentError('INVALID_PLAN', `${what}: ${show(c)} is not a CIDR`, { value: c });
    return p.toString();
  });
  return [...new Set(out)].sort();
}

/** "ip:port" or "[v6]:port" with an IP literal, canonicalised; anything else is INVALID_PLAN. */
export function canonEndpoint(text: string, what = 'endpoint'): string {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  const addr = m ? tryParseAddr(m[1]!) : undefined;
  if (addr === undefined || !(port >= 1 && port <= 65535)) {
    throw new AgentError(
      'INVALID_PLAN',
      `${what} ${show(text)} must be "<ip>:<port>" or "[<ipv6>]:<port>" (an IP literal: wg reports resolved addresses)`,
      { value: text },
    );
  }
  return addr.family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Parses `wg show <if> dump`. The private and pre-shared keys are read past, never kept. */
export function parseWgDump(text: string): WgState {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]?.split('\t');
  if (head === undefined || head.length < 4) {
    throw new AgentError(
      'PARSE_ERROR',
      'wg show dump: the first line is not "private-key public-key listen-port fwmark"',
      {
        lines: lines.length,
      },
    );
  }
  const listenPort = Number(head[2]);
  const peers = lines.slice(1).map((line, i): WgPeerState => {
    const f = line.split('\t');
    if (f.length < 8) {
      throw new AgentError(
        'PARSE_ERROR',
        `wg show dump: peer line ${i + 1} has ${f.length} fields, expected 8`,
        {
          line: i + 2,
        },
      );
    }
    const allowed = f[3] === '(none)' ? [] : f[3]!.split(',');
    return {
      publicKey: f[0]!,
      endpoint: f[2] === '(none)' ? null : canonEndpoint(f[2]!, 'wg dump endpoint'),
      allowedIPs: canonCidrs(allowed, 'wg dump allowed-ips'),
      persistentKeepalive: f[7] === 'off' ? 0 : Number(f[7]),
    };
  });
  return {
    publicKey: head[1] === '(none)' ? null : head[1]!,
    listenPort: Number.isInteger(listenPort) ? listenPort : 0,
    peers: peers.sort(byKey),
  };
}

/** The plan's WireGuard state; `listenPort` null when the plan leaves it to the device. */
export interface DesiredWgState {
  readonly publicKey: string;
  readonly listenPort: number | null;
  readonly peers: readonly WgPeerState[];
}

/** The plan's WireGuard state in the shape parseWgDump returns, for comparison. */
export function desiredWgState(cable: NodeCableSpec, localPublicKey: string): DesiredWgState {
  const peers = (cable.peers ?? []).map((p, i) => ({
    publicKey: p.publicKey,
    endpoint: canonEndpoint(p.endpoint, `cable.peers[${i}].endpoint`),
    allowedIPs: canonCidrs(p.allowedIPs, `cable.peers[${i}].allowedIPs`),
    persistentKeepalive: p.persistentKeepalive ?? 0,
  }));
  return { publicKey: localPublicKey, listenPort: cable.listenPort ?? null, peers: peers.sort(byKey) };
}

/** Why the device differs from the plan (for logs), or an empty list when it matches. */
export function wgDrift(desired: DesiredWgState, observed: WgState | null): string[] {
  if (observed === null) return ['device missing'];
  const out: string[] = [];
  if (observed.publicKey !== desired.publicKey) out.push('private key differs');
  if (desired.listenPort !== null && observed.listenPort !== desired.listenPort)
    out.push(`listen port ${observed.listenPort} != ${desired.listenPort}`);
  const have = new Map(observed.peers.map((p) => [p.publicKey, p]));
  for (const p of desired.peers) {
    const o = have.get(p.publicKey);
    if (o === undefined) out.push(`peer ${p.publicKey} missing`);
    else if (JSON.stringify(o) !== JSON.stringify(p)) out.push(`peer ${p.publicKey} differs`);
    have.delete(p.publicKey);
  }
  for (const k of have.keys()) out.push(`peer ${k} not in the plan`);
  return out;
}

/**
 * The `wg setconf` text for the plan: replaces the device's whole configuration (peers not listed are
 * removed). Holds the private key: pass it on stdin, never log it.
 */
export function renderSetconf(cable: NodeCableSpec, privateKey: Secret): string {
  const want = desiredWgState(cable, '');
  const out = ['[Interface]', `PrivateKey = ${privateKey.reveal()}`];
  if (want.listenPort !== null) out.push(`ListenPort = ${want.listenPort}`);
  for (const p of want.peers) {
    out.push('', '[Peer]', `PublicKey = ${p.publicKey}`);
    if (p.allowedIPs.length > 0) out.push(`AllowedIPs = ${p.allowedIPs.join(', ')}`);
    if (p.endpoint !== null) out.push(`Endpoint = ${p.endpoint}`);
    if (p.persistentKeepalive > 0) out.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
  }
  return `${out.join('\n')}\n`;
}
