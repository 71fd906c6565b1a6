import type { PlanDiff } from './diff';
import { RoutePlannerError } from './errors';
import {
  type AddressEntry,
  type Device,
  emptyPlan,
  type FdbEntry,
  type MangleRule,
  type Neighbour,
  type Plan,
  type Route,
  type Rule,
} from './plan';

/** One command to run, in order: `tool ...args` with `input` on stdin. */
export interface BatchStep {
  readonly tool: 'ip' | 'bridge';
  /** `['-batch', '-']`, or `['-6', '-batch', '-']` for IPv6 rules and routes (batch lines cannot carry -6). */
  readonly args: readonly string[];
  readonly input: string;
}

export interface RenderOptions {
  /** Namespace the far end of each veth the plan creates is moved into (required when the plan creates one). */
  readonly peerNetns?: string;
}

const ZERO_MAC = '00:00:00:00:00:00';

function isDiff(x: Plan | PlanDiff): x is PlanDiff {
  return 'add' in x && 'delete' in x && 'replace' in x;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function deviceAdd(d: Device, opts: RenderOptions): string[] {
  if (d.kind === 'vxlan') {
    const dev = d.dev === undefined ? '' : ` dev ${d.dev}`;
    const learning = d.learning ? 'learning' : 'nolearning';
    return [
      `link add ${d.name} address ${d.mac} mtu ${d.mtu} type vxlan id ${d.vni} dstport ${d.port} local ${d.local}${dev} ${learning}`,
      `link set dev ${d.name} up`,
    ];
  }
  if (d.kind === 'veth') {
    if (opts.peerNetns === undefined) {
      throw new RoutePlannerError(
        'RENDER_ERROR',
        `veth ${JSON.stringify(d.name)} moves its peer ${JSON.stringify(d.peer)} into another namespace: pass { peerNetns }`,
        { device: d.name },
      );
    }
    return [
      `link add ${d.name} address ${d.mac} mtu ${d.mtu} type veth peer name ${d.peer} address ${d.peerMac} mtu ${d.mtu} netns ${opts.peerNetns}`,
      `link set dev ${d.name} up`,
    ];
  }
  return [
    ...(d.mac === undefined ? [] : [`link set dev ${d.name} address ${d.mac}`]),
    `link set dev ${d.name} up`,
  ];
}

function deviceDel(d: Device): string[] {
  // An existing link is not ours to delete: leaving the plan means no longer managed.
  return d.kind === 'link' ? [] : [`link del ${d.name}`];
}

function addr(op: 'add' | 'del', a: AddressEntry): string {
  return `addr ${op} ${a.address} dev ${a.dev}${op === 'add' && a.family === 6 ? ' nodad' : ''}`;
}

function routeArgs(r: Route): string {
  let s = r.dst;
  if (r.via !== undefined) s += ` via ${r.via}`;
  if (r.dev !== undefined) s += ` dev ${r.dev}`;
  if (r.scope !== undefined) s += ` scope ${r.scope}`;
  if (r.onlink) s += ' onlink';
  if (r.src !== undefined) s += ` src ${r.src}`;
  if (r.metric !== undefined) s += ` metric ${r.metric}`;
  return `${s} table ${r.table}`;
}

/**
 * Replaces and adds, routes without a gateway first (of both): the kernel checks a gateway against the
 * routes already there, and a replaced route's new gateway may need a link route the diff adds.
 */
function routeLines(replace: readonly Route[], add: readonly Route[]): string[] {
  const lines = (gw: boolean) => [
    ...replace.filter((x) => (x.via !== undefined) === gw).map((x) => `route replace ${routeArgs(x)}`),
    ...add.filter((x) => (x.via !== undefined) === gw).map((x) => `route add ${routeArgs(x)}`),
  ];
  return [...lines(false), ...lines(true)];
}

function routeDel(r: Route): string {
  // IPv6 deletes the first route of any metric when none is named: name the default 1024 it stands for.
  const metric = r.metric ?? (r.family === 6 ? 1024 : undefined);
  return `route del ${r.dst}${metric === undefined ? '' : ` metric ${metric}`} table ${r.table}`;
}

function ruleArgs(r: Rule): string {
  let s = `from ${r.from ?? 'all'}`;
  if (r.to !== undefined) s += ` to ${r.to}`;
  if (r.fwmark !== undefined) s += ` fwmark ${hex(r.fwmark)}${r.mask === undefined ? '' : `/${hex(r.mask)}`}`;
  return `${s} lookup ${r.table} pref ${r.priority}`;
}

function neigh(n: Neighbour): string {
  return `neigh replace ${n.dst} lladdr ${n.lladdr} dev ${n.dev} nud ${n.permanent ? 'permanent' : 'reachable'}`;
}

function fdbAdd(f: FdbEntry): string {
  // The all-zero MAC is a flood list with one entry per remote: append; a unicast MAC has one home: replace.
  return f.lladdr === ZERO_MAC
    ? `fdb append ${f.lladdr} dev ${f.dev} dst ${f.dst}`
    : `fdb replace ${f.lladdr} dev ${f.dev} dst ${f.dst} self permanent`;
}

function fdbDel(f: FdbEntry): string {
  return `fdb del ${f.lladdr} dev ${f.dev} dst ${f.dst}`;
}

/**
 * Render a plan (everything added) or a diff as commands for `ip -batch -` and `bridge -batch -`, in the
 * order they must run: FDB deletes; IPv4 then IPv6 route/rule/neighbour deletes; device and address
 * changes with IPv4 adds; IPv6 adds; FDB adds. IPv6 rules and routes get their own `ip -6 -batch -`
 * step because a batch line cannot name a family and `from all` would mean IPv4. Empty steps are left out.
 * Mangle rules are not here: see renderIptables.
 */
export function renderIpBatch(planOrDiff: Plan | PlanDiff, opts: RenderOptions = {}): BatchStep[] {
  const diff: PlanDiff = isDiff(planOrDiff)
    ? planOrDiff
    : { delete: emptyPlan(), replace: emptyPlan(), add: planOrDiff };
  const { delete: d, replace: r, add: a } = diff;
  const fdbDelLines = d.fdb.map(fdbDel);
  const delLines = (family: 4 | 6) => [
    ...d.neighbours
      .filter((n) => (n.dst.includes(':') ? 6 : 4) === family)
      .map((n) => `neigh del ${n.dst} dev ${n.dev}`),
    ...d.routes.filter((x) => x.family === family).map(routeDel),
    ...d.rules.filter((x) => x.family === family).map((x) => `rule del ${ruleArgs(x)}`),
  ];
  const addLines = (family: 4 | 6) => [
    ...a.rules.filter((x) => x.family === family).map((x) => `rule add ${ruleArgs(x)}`),
    ...routeLines(
      r.routes.filter((x) => x.family === family),
      a.routes.filter((x) => x.family === family),
    ),
    ...[...r.neighbours, ...a.neighbours].filter((n) => (n.dst.includes(':') ? 6 : 4) === family).map(neigh),
  ];
  const main = [
    ...delLines(4),
    ...d.addresses.map((x) => addr('del', x)),
    ...d.devices.flatMap(deviceDel),
    ...r.devices.flatMap((x) => deviceAdd(x, opts)),
    ...a.devices.flatMap((x) => deviceAdd(x, opts)),
    ...a.addresses.map((x) => addr('add', x)),
    ...addLines(4),
  ];
  const steps: BatchStep[] = [];
  const push = (tool: 'ip' | 'bridge', args: string[], lines: string[]) => {
    if (lines.length > 0) steps.push({ tool, args, input: `${lines.join('\n')}\n` });
  };
  push('bridge', ['-batch', '-'], fdbDelLines);
  push('ip', ['-6', '-batch', '-'], delLines(6));
  push('ip', ['-batch', '-'], main);
  push('ip', ['-6', '-batch', '-'], addLines(6));
  push('bridge', ['-batch', '-'], a.fdb.map(fdbAdd));
  return steps;
}

/** The steps as a shell script (here-documents), for logs and examples. */
export function renderShell(steps: readonly BatchStep[], netns?: string): string {
  const ns = netns === undefined ? '' : `ip netns exec ${netns} `;
  return steps.map((s) => `${ns}${s.tool} ${s.args.join(' ')} <<'EOF'\n${s.input}EOF\n`).join('');
}

function mangleLine(op: '-A' | '-D', m: MangleRule): string {
  let s = `${op} ${m.chain}`;
  if (m.iif !== undefined) s += ` -i ${m.iif}`;
  if (m.ctstate !== undefined) s += ` -m conntrack --ctstate ${m.ctstate}`;
  if (m.action === 'set-mark') s += ` -j MARK --set-xmark ${hex(m.mark ?? 0)}/0xffffffff`;
  else s += ` -j CONNMARK --${m.action} --nfmask 0xffffffff --ctmask 0xffffffff`;
  return s;
}

/** iptables-restore input; rule lines are in the exact form iptables-save prints them back. */
export interface IptablesText {
  /** For `iptables-restore --noflush`; empty when there is nothing to do. */
  readonly ipv4: string;
  /** For `ip6tables-restore --noflush`; empty when there is nothing to do. */
  readonly ipv6: string;
}

/** Render a plan's or diff's mangle rules (the underlay reply path) for iptables-restore --noflush. */
export function renderIptables(planOrDiff: Plan | PlanDiff): IptablesText {
  const diff: PlanDiff = isDiff(planOrDiff)
    ? planOrDiff
    : { delete: emptyPlan(), replace: emptyPlan(), add: planOrDiff };
  const text = (family: 4 | 6) => {
    const lines = [
      ...diff.delete.mangle.filter((m) => m.family === family).map((m) => mangleLine('-D', m)),
      ...diff.add.mangle.filter((m) => m.family === family).map((m) => mangleLine('-A', m)),
    ];
    return lines.length === 0 ? '' : `*mangle\n${lines.join('\n')}\nCOMMIT\n`;
  };
  return { ipv4: text(4), ipv6: text(6) };
}
