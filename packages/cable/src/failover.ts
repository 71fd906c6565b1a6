import type { RoutePlan } from './cable-context';
import type { EndpointChoice } from './endpoint';
import { hostPort } from './endpoint';
import { CableError, show } from './errors';
import type { IpsecConnection, LibreswanPlan } from './libreswan';
import type { CablePlan } from './plan';
import { Secret } from './secret';
import type { FdbEntry, VxlanPlan } from './vxlan';
import { renderRoutes, type WireGuardPeer, type WireGuardPlan } from './wireguard';

/** One step of a failover, in the order to apply. */
export type FailoverStep =
  | { readonly op: 'wg-remove-peer'; readonly clusterId: string; readonly publicKey: string }
  | { readonly op: 'wg-set-peer'; readonly clusterId: string; readonly peer: WireGuardPeer }
  | { readonly op: 'fdb-del'; readonly clusterId: string; readonly entry: FdbEntry }
  | { readonly op: 'fdb-append'; readonly clusterId: string; readonly entry: FdbEntry }
  | { readonly op: 'route-replace'; readonly clusterId: string; readonly route: RoutePlan }
  | { readonly op: 'ipsec-delete'; readonly clusterId: string; readonly name: string }
  | { readonly op: 'ipsec-add'; readonly clusterId: string; readonly connection: IpsecConnection };

/** A remote cluster whose active gateway moved. */
export interface GatewayMove {
  readonly clusterId: string;
  readonly fromNode: string | null;
  readonly toNode: string | null;
  readonly from: EndpointChoice;
  readonly to: EndpointChoice;
}

export interface FailoverPlan {
  readonly driver: CablePlan['driver'];
  readonly localClusterId: string;
  /** Sorted by cluster id; empty when nothing moved. */
  readonly moved: readonly GatewayMove[];
  readonly steps: readonly FailoverStep[];
}

type AnyPeer = {
  readonly clusterId: string;
  readonly node: string | null;
  readonly endpoint: EndpointChoice;
};

/**
 * JSON of a value with the gateway-specific fields blanked, to compare what must not change. Secrets
 * serialise as `[redacted]`, so their values are put in instead: a changed key or PSK is a difference
 * too. The string is only compared, never printed or returned.
 */
function fixed(value: unknown, drop: readonly string[]): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    if (drop.includes(k)) return undefined;
    const raw = this[k];
    return Secret.isInstance(raw) ? ['secret', raw.reveal()] : v;
  });
}

function notAFailover(what: string, details: Record<string, unknown>): never {
  throw new CableError('NOT_A_FAILOVER', `not a gateway failover: ${what}`, details);
}

// Peer fields that follow the remote gateway node: a peer whose fields here differ has moved.
const MOVING: Record<CablePlan['driver'], readonly string[]> = {
  wireguard: ['endpoint', 'node', 'publicKey'],
  vxlan: ['endpoint', 'node', 'remoteVtep'],
  libreswan: ['endpoint', 'node'],
};
// Peer fields derived from the endpoint, which may change with a move only (IPsec MTU: NAT-T or not).
const DERIVED: Record<CablePlan['driver'], readonly string[]> = {
  wireguard: [],
  vxlan: [],
  libreswan: ['mtu'],
};

/**
 * The plan without its peers, as a comparable string: entries of moved peers have the fields that
 * follow their gateway blanked; everything else (local address and port, MTU, source, keys) stays.
 */
function settings(p: CablePlan, moved: ReadonlySet<string>): string {
  const blank = <T extends { readonly clusterId: string }>(xs: readonly T[], fields: Partial<T>): T[] =>
    xs.map((x) => (moved.has(x.clusterId) ? { ...x, ...fields } : x));
  if (p.driver === 'wireguard') return fixed({ ...p, peers: undefined }, []);
  if (p.driver === 'vxlan') {
    const fdb = blank(p.fdb, { dst: '', port: null });
    return fixed({ ...p, peers: undefined, fdb, routes: blank(p.routes, { via: null }) }, []);
  }
  // Conn names carry the remote IP, so the conns compare as a set; MTU and MSS follow the peers' MTUs.
  const connections = blank(p.connections, {
    name: '',
    right: '',
    rightId: '',
    rightIkePort: 0,
    encapsulation: 'auto',
    mtu: 0,
  })
    .map((c) => fixed(c, []))
    .sort();
  const mssClamp = p.mssClamp.map((r) => ({ ...r, mss: 0 }));
  return fixed({ ...p, peers: undefined, mtu: 0, connections, mssClamp }, []);
}

/**
 * The changes to the local gateway's cables when remote clusters' active gateways move: only the
 * moved peers' endpoints (and what follows from them: WireGuard public key, VXLAN FDB entry and next
 * hop, IPsec connections) change. Anything else differing between the plans is NOT_A_FAILOVER.
 */
export function planFailover(before: CablePlan, after: CablePlan): FailoverPlan {
  if (before.driver !== after.driver) {
    notAFailover(`the driver changed from ${before.driver} to ${after.driver}`, { field: 'driver' });
  }
  if (before.localClusterId !== after.localClusterId) {
    notAFailover(`the plans are for different clusters (${before.localClusterId}, ${after.localClusterId})`, {
      field: 'localClusterId',
    });
  }
  const moving = MOVING[before.driver];
  const drop = [...moving, ...DERIVED[before.driver]];
  const a = before.peers as readonly AnyPeer[];
  const b = after.peers as readonly AnyPeer[];
  const ids = (ps: readonly AnyPeer[]) => ps.map((p) => p.clusterId).join(',');
  if (ids(a) !== ids(b))
    notAFailover(`the peer clusters changed (${ids(a)} -> ${ids(b)})`, { field: 'peers' });
  const pick = (p: AnyPeer) => fixed(Object.fromEntries(moving.map((k) => [k, (p as never)[k]])), []);
  const moved: GatewayMove[] = [];
  const steps: FailoverStep[] = [];
  a.forEach((pa, i) => {
    const pb = b[i]!;
    if (fixed(pa, drop) !== fixed(pb, drop)) {
      notAFailover(`peer ${show(pa.clusterId)} changed more than its gateway`, { clusterId: pa.clusterId });
    }
    if (pick(pa) === pick(pb)) {
      if (fixed(pa, []) !== fixed(pb, [])) {
        notAFailover(`peer ${show(pa.clusterId)} changed although its gateway did not move`, {
          clusterId: pa.clusterId,
        });
      }
      return;
    }
    moved.push({
      clusterId: pa.clusterId,
      fromNode: pa.node,
      toNode: pb.node,
      from: pa.endpoint,
      to: pb.endpoint,
    });
    steps.push(...stepsFor(before, after, pa.clusterId));
  });
  const movedIds = new Set(moved.map((m) => m.clusterId));
  if (settings(before, movedIds) !== settings(after, movedIds)) {
    notAFailover('settings other than the remote gateways differ', { field: 'plan' });
  }
  return { driver: before.driver, localClusterId: before.localClusterId, moved, steps };
}

function stepsFor(before: CablePlan, after: CablePlan, clusterId: string): FailoverStep[] {
  const steps: FailoverStep[] = [];
  if (before.driver === 'wireguard') {
    const pa = before.peers.find((p) => p.clusterId === clusterId)!;
    const pb = (after as WireGuardPlan).peers.find((p) => p.clusterId === clusterId)!;
    if (pa.publicKey !== pb.publicKey)
      steps.push({ op: 'wg-remove-peer', clusterId, publicKey: pa.publicKey });
    steps.push({ op: 'wg-set-peer', clusterId, peer: pb });
  } else if (before.driver === 'vxlan') {
    const v = after as VxlanPlan;
    for (const e of before.fdb)
      if (e.clusterId === clusterId) steps.push({ op: 'fdb-del', clusterId, entry: e });
    for (const e of v.fdb)
      if (e.clusterId === clusterId) steps.push({ op: 'fdb-append', clusterId, entry: e });
    for (const r of v.routes)
      if (r.clusterId === clusterId) steps.push({ op: 'route-replace', clusterId, route: r });
  } else {
    const l = after as LibreswanPlan;
    for (const c of before.connections)
      if (c.clusterId === clusterId) steps.push({ op: 'ipsec-delete', clusterId, name: c.name });
    for (const c of l.connections)
      if (c.clusterId === clusterId) steps.push({ op: 'ipsec-add', clusterId, connection: c });
  }
  return steps;
}

/**
 * The failover as tool input. `wgAddconf` may hold pre-shared keys, so it is a Secret: the object can
 * be logged whole; `wgAddconf.reveal()` goes to a file written with writeSecretFile.
 */
export interface RenderedFailover {
  /** Public keys to remove: `wg set <iface> peer <key> remove`. */
  readonly wgRemovePeers: readonly string[];
  /** `wg addconf <iface> <file>` text adding or updating the moved peers (empty when none). */
  readonly wgAddconf: Secret;
  readonly ipBatch: string;
  readonly bridgeBatch: string;
  /** Connection names to delete (`ipsec auto --delete <name>`). */
  readonly ipsecDelete: readonly string[];
  /** New conn sections (render them with the plan's settings via renderIpsecConf of the after plan). */
  readonly ipsecAdd: readonly string[];
}

/** Turns failover steps into the text the tools read. */
export function renderFailover(f: FailoverPlan, family: 4 | 6): RenderedFailover {
  const wgRemovePeers: string[] = [];
  const addconf: string[] = [];
  const ip: RoutePlan[] = [];
  const bridge: string[] = [];
  const ipsecDelete: string[] = [];
  const ipsecAdd: string[] = [];
  for (const s of f.steps) {
    if (s.op === 'wg-remove-peer') wgRemovePeers.push(s.publicKey);
    else if (s.op === 'wg-set-peer') {
      const p = s.peer;
      addconf.push('[Peer]', `PublicKey = ${p.publicKey}`);
      if (p.presharedKey !== null) addconf.push(`PresharedKey = ${p.presharedKey.reveal()}`);
      addconf.push(
        `AllowedIPs = ${p.allowedIps.join(', ')}`,
        `Endpoint = ${hostPort(p.endpoint.address, p.endpoint.port, family)}`,
      );
      if (p.persistentKeepalive > 0) addconf.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
      addconf.push('');
    } else if (s.op === 'fdb-del' || s.op === 'fdb-append') {
      const e = s.entry;
      const verb = s.op === 'fdb-del' ? 'del' : 'append';
      bridge.push(
        `fdb ${verb} ${e.mac} dev ${e.dev} dst ${e.dst}${e.port === null ? '' : ` port ${e.port}`}`,
      );
    } else if (s.op === 'route-replace') ip.push(s.route);
    else if (s.op === 'ipsec-delete') ipsecDelete.push(s.name);
    else ipsecAdd.push(s.connection.name);
  }
  const text = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  return {
    wgRemovePeers,
    wgAddconf: new Secret(addconf.join('\n')),
    ipBatch: text(renderRoutes(ip)),
    bridgeBatch: text(bridge),
    ipsecDelete,
    ipsecAdd,
  };
}
