// Builds a planned Scenario in network namespaces from its plans alone, and measures it: the
// connectivity matrix, the MTU, a gateway failover. Everything it starts belongs to the Lab, which
// removes it in cleanup(); secrets go to 0600 files in a private directory removed by teardown().
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CablePlan,
  electGateway,
  GATEWAY_LABEL,
  generateWireGuardKeyPair,
  type Lease,
  renderFailover,
  renderVxlanBridgeBatch,
  renderVxlanIpBatch,
  renderWireGuardIpBatch,
  renderWireGuardSetconf,
  writeSecretFile,
} from '@isthmus/cable';
import {
  mergePlans,
  type Plan,
  type PlanDiff,
  parseIpJson,
  renderIpBatch,
  renderIptables as renderMangle,
  scopeToPlan,
} from '@isthmus/route-planner';
import type { Lab, Netns, Started } from '../testing/netns';
import {
  type ClusterName,
  type Expectation,
  type GatewayChange,
  type NodeKeys,
  planGatewayChange,
  type Scenario,
  type ScenarioPod,
} from './scenario';

/** Called with a short description before each slow step (for a progress line). */
export type Progress = (step: string) => void;

/** A scenario built in a lab: namespaces by node and pod name, and the processes it runs. */
export interface BuiltScenario {
  readonly scenario: Scenario;
  readonly lab: Lab;
  /** The namespace of every node and pod, by name; `underlay` is the switch joining the nodes. */
  readonly ns: Readonly<Record<string, Netns>>;
  /** wireguard-go per gateway node that runs one, and the TCP responder per pod. */
  readonly processes: { wireguard: Record<string, Started>; responders: Record<string, Started> };
  /** The active gateway of each cluster (changes on failover) and its lease. */
  readonly active: Record<ClusterName, string>;
  readonly leases: Record<ClusterName, Lease>;
  /** The cable plan each running gateway has now (changes on failover). */
  readonly cables: Record<string, CablePlan>;
  /** Directory of the 0600 secret files; removed by teardown. */
  readonly secretDir: string;
}

/** New WireGuard keys for every gateway-capable node of a scenario (randomness lives here, not in the plan). */
export function generateScenarioKeys(): Record<string, NodeKeys> {
  const out: Record<string, NodeKeys> = {};
  for (const n of ['west-gw', 'west-gw2', 'east-gw', 'east-gw2']) out[n] = generateWireGuardKeyPair();
  return out;
}

/** WireGuard interface names unique on this machine (wireguard-go's sockets are machine-wide). */
export function uniqueWgNames(): Record<string, string> {
  const tag = randomBytes(3).toString('hex');
  return {
    'west-gw': `wg${tag}w1`,
    'west-gw2': `wg${tag}w2`,
    'east-gw': `wg${tag}e1`,
    'east-gw2': `wg${tag}e2`,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a plan (or diff) rendered for ip/bridge -batch; veths the plan creates go to `peerNetns`. */
async function applyPlan(ns: Netns, plan: Plan | PlanDiff, peerNetns?: string): Promise<void> {
  for (const s of renderIpBatch(plan, peerNetns === undefined ? {} : { peerNetns }))
    await ns.must(s.tool, s.args, { input: s.input });
}

/** A node plan whose veths each lead into a different pod: one render per veth, then the rest. */
async function applyNodePlan(ns: Netns, plan: Plan, peerOf: (veth: string) => string): Promise<void> {
  for (const d of plan.devices.filter((x) => x.kind === 'veth'))
    await applyPlan(ns, mergePlans({ devices: [d] }), peerOf(d.name));
  await applyPlan(ns, { ...plan, devices: plan.devices.filter((x) => x.kind !== 'veth') });
}

async function sysctls(ns: Netns, pairs: readonly [string, string][]): Promise<void> {
  await ns.must('sysctl', ['-qw', ...pairs.map(([k, v]) => `${k}=${v}`)]);
}

// Answers every connection with the address it came from, then closes.
const RESPONDER = `const port = Number(process.argv[1]);
require('node:net').createServer((s) => s.end(s.remoteAddress.replace(/^::ffff:/, ''))).listen(port, '0.0.0.0', () => console.log('listening'));`;

// Connects to each target in turn and prints one JSON line per target: what the responder saw and how long it took.
const CLIENT = `const net = require('node:net');
const targets = JSON.parse(process.argv[1]);
const one = (t) => new Promise((done) => {
  const start = process.hrtime.bigint();
  const s = net.connect({ host: t.host, port: t.port });
  let out = '';
  const timer = setTimeout(() => { s.destroy(); done({ ok: false, error: 'timeout' }); }, t.timeoutMs);
  s.on('data', (d) => { out += d; });
  s.on('end', () => { clearTimeout(timer); done({ ok: true, seen: out.trim(), ms: Number(process.hrtime.bigint() - start) / 1e6 }); });
  s.on('error', (e) => { clearTimeout(timer); done({ ok: false, error: e.message }); });
});
(async () => { for (const t of targets) { let r; for (let i = 0; i < t.tries; i++) { r = await one(t); if (r.ok) break; } console.log(JSON.stringify(r)); } })();`;

async function waitForOutput(p: Started, text: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!p.output().includes(text)) {
    if (Date.now() > end)
      throw new Error(`process ${p.pid} did not print ${JSON.stringify(text)}: ${p.output()}`);
    await sleep(20);
  }
}

async function startWireGuard(built: BuiltScenario, node: string, plan: CablePlan): Promise<void> {
  if (plan.driver !== 'wireguard') throw new Error(`startWireGuard: ${node}'s cable is ${plan.driver}`);
  const ns = built.ns[node]!;
  const name = plan.interfaceName;
  const proc = await ns.start('wireguard-go', ['-f', name]);
  built.processes.wireguard[node] = proc;
  const sock = `/var/run/wireguard/${name}.sock`;
  for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(25);
  if (!existsSync(sock)) throw new Error(`wireguard-go did not create ${sock}: ${proc.output()}`);
  const file = join(built.secretDir, `${name}.conf`);
  writeSecretFile(file, renderWireGuardSetconf(plan));
  await ns.must('wg', ['setconf', name, file]);
  await ns.ipBatch(renderWireGuardIpBatch(plan));
}

/** Brings up a gateway's cable (wireguard-go + wg setconf, or the VXLAN device and FDB) and its MSS clamp. */
async function startCable(
  built: BuiltScenario,
  node: string,
  plan: CablePlan,
  mssNft: string,
): Promise<void> {
  const ns = built.ns[node]!;
  if (plan.driver === 'wireguard') await startWireGuard(built, node, plan);
  else if (plan.driver === 'vxlan') {
    await ns.ipBatch(renderVxlanIpBatch(plan));
    await ns.must('bridge', ['-batch', '-'], { input: renderVxlanBridgeBatch(plan) });
  } else throw new Error(`startCable: driver ${plan.driver} is not part of the scenario`);
  await ns.must('nft', ['-f', '-'], { input: mssNft });
  built.cables[node] = plan;
}

/** One ping; its RTT in ms when a reply came, and the output either way. */
async function pingOnce(ns: Netns, dst: string, args: readonly string[] = []) {
  const r = await ns.run('ping', ['-n', '-c', '1', '-W', '2', ...args, dst], { timeoutMs: 10_000 });
  const m = /time=([\d.]+) ms/.exec(r.stdout);
  return { ok: r.code === 0, rttMs: m === null ? null : Number(m[1]), output: (r.stdout + r.stderr).trim() };
}

/** Pings until a reply arrives (a WireGuard handshake or ARP may delay the first ones). */
async function waitReachable(ns: Netns, dst: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    const r = await ns.run('ping', ['-n', '-c', '1', '-W', '1', dst], { timeoutMs: 5000 });
    if (r.code === 0) return;
    last = r.stdout + r.stderr;
  }
  throw new Error(`${ns.name} never reached ${dst}: ${last}`);
}

function candidates(scenario: Scenario, cluster: ClusterName, down: ReadonlySet<string>) {
  const label = { [GATEWAY_LABEL.key]: GATEWAY_LABEL.value };
  return scenario.nodes
    .filter((n) => n.cluster === cluster && n.role !== 'worker')
    .map((n) => ({ node: n.name, healthy: !down.has(n.name), labels: label }));
}

/**
 * Builds the scenario in `lab` from its plans: namespaces, the underlay switch, Kubernetes' part (pod
 * veths and addresses, host-gw pod routes, kube-proxy DNAT), pod and node route plans, cables, NAT, a
 * TCP responder in every pod; elects each cluster's gateway and waits until the clusters reach each other.
 */
export async function buildScenario(
  lab: Lab,
  scenario: Scenario,
  onProgress?: Progress,
): Promise<BuiltScenario> {
  const built: BuiltScenario = {
    scenario,
    lab,
    ns: {},
    processes: { wireguard: {}, responders: {} },
    active: { west: '', east: '' },
    leases: {} as Record<ClusterName, Lease>,
    cables: {},
    secretDir: mkdtempSync(join(tmpdir(), 'isthmus-e2e-')),
  };
  try {
    await build(built, onProgress ?? (() => {}));
  } catch (e) {
    rmSync(built.secretDir, { recursive: true, force: true });
    throw e;
  }
  return built;
}

async function build(built: BuiltScenario, progress: Progress): Promise<void> {
  const { scenario, lab } = built;
  const ns = built.ns as Record<string, Netns>;
  progress('creating namespaces');
  ns.underlay = await lab.netns('ul');
  const all = [...scenario.nodes, ...scenario.pods];
  const made = await Promise.all(all.map((x) => lab.netns(x.ns)));
  all.forEach((x, i) => {
    ns[x.name] = made[i]!;
  });

  progress('wiring the underlay');
  const ul = ns.underlay;
  await ul.ipBatch('link add br0 type bridge\nlink set br0 up\n');
  const { prefixLength, mtu } = scenario.underlay;
  const wire = async (n: Scenario['nodes'][number]) => {
    const node = ns[n.name]!;
    // Forwarding and loose reverse paths, set first so the devices created later inherit them.
    await sysctls(node, [
      ['net.ipv4.ip_forward', '1'],
      ['net.ipv4.conf.all.rp_filter', '0'],
      ['net.ipv4.conf.default.rp_filter', '0'],
    ]);
    await lab.veth(node, 'eth0', ul, `p-${n.ns}`, { a: [`${n.underlayIp}/${prefixLength}`] });
    await node.must('ip', ['link', 'set', 'eth0', 'mtu', String(mtu)]);
    await ul.must('ip', ['link', 'set', `p-${n.ns}`, 'master', 'br0']);
  };
  await Promise.all(scenario.nodes.map(wire));
  // A second NIC on the underlay (what Multus and macvlan would attach) for pods that plan one.
  for (const p of scenario.pods.filter((x) => x.nics.some((nic) => nic.name === 'net1'))) {
    await lab.veth(ns[p.name]!, 'net1', ul, `p-${p.ns}`);
    await ul.must('ip', ['link', 'set', `p-${p.ns}`, 'master', 'br0']);
  }

  progress('attaching pods (CNI stand-in) and applying pod route plans');
  const podOfVeth = new Map<string, ScenarioPod>();
  for (const p of scenario.pods) {
    podOfVeth.set(p.hostVeth, p);
    for (const d of p.plan.host.devices) podOfVeth.set(d.name, p);
  }
  const peerOf = (veth: string) => {
    const p = podOfVeth.get(veth);
    if (p === undefined) throw new Error(`no pod owns veth ${veth}`);
    return ns[p.name]!.name;
  };
  await Promise.all(scenario.nodes.map((n) => applyNodePlan(ns[n.name]!, n.kubernetes, peerOf)));
  const attach = async (p: ScenarioPod) => {
    const pod = ns[p.name]!;
    await applyPlan(pod, p.kubernetes);
    await applyPlan(pod, p.plan.pod);
    const mangle = renderMangle(p.plan.pod);
    if (mangle.ipv4 !== '') await pod.must('iptables-restore', ['--noflush'], { input: mangle.ipv4 });
    if (p.plan.sysctls.length > 0)
      await sysctls(
        pod,
        p.plan.sysctls.map((s) => [s.name, s.value]),
      );
  };
  await Promise.all(scenario.pods.map(attach));

  progress(
    scenario.mode === 'gateway' ? `electing gateways and starting ${scenario.driver} cables` : 'P2P mesh',
  );
  const now = Date.now();
  for (const c of scenario.clusters) {
    const e = electGateway(candidates(scenario, c.name, new Set()), null, now, {
      leaseDurationSeconds: scenario.leaseDurationSeconds,
    });
    if (e.active !== c.gateway)
      throw new Error(`electGateway chose ${e.active} for ${c.name}, plans assume ${c.gateway}`);
    built.active[c.name] = e.active;
    built.leases[c.name] = e.lease;
  }
  await Promise.all(
    scenario.nodes.map((n) =>
      n.cable === null ? undefined : startCable(built, n.name, n.cable.plan, n.cable.mssNft),
    ),
  );

  // The gateways' routes name the cable device: after the cables.
  progress('applying node route plans, NAT and kube-proxy rules');
  await Promise.all(
    scenario.nodes.map(async (n) => {
      const node = ns[n.name]!;
      await applyNodePlan(node, n.routes, peerOf);
      await node.must('nft', ['-f', '-'], { input: n.kubeProxyNft });
      if (n.nat !== null) await node.must('nft', ['-f', '-'], { input: n.nat.nft });
    }),
  );

  progress('starting responders');
  for (const p of scenario.pods) {
    const proc = await ns[p.name]!.start(process.execPath, ['-e', RESPONDER, String(p.port)]);
    built.processes.responders[p.name] = proc;
  }
  for (const p of Object.values(built.processes.responders)) await waitForOutput(p, 'listening');

  progress('waiting until the clusters reach each other');
  const first = scenario.expectations.filter((x) => x.ping);
  try {
    for (const from of new Set(first.map((x) => x.fromCluster))) {
      const x = first.find((y) => y.fromCluster === from)!;
      await waitReachable(ns[x.from]!, x.to);
    }
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await cableState(built)}`);
  }
}

/**
 * What each running cable looks like (for a failure message): `wg show` per WireGuard device, which
 * prints the latest handshake and the bytes moved, and prints no private or preshared key.
 */
async function cableState(built: BuiltScenario): Promise<string> {
  const out: string[] = [];
  for (const [node, plan] of Object.entries(built.cables)) {
    if (plan.driver !== 'wireguard') continue;
    const r = await built.ns[node]!.run('wg', ['show', plan.interfaceName]);
    out.push(`${node}: ${(r.stdout + r.stderr).trim()}`);
  }
  return out.join('\n');
}

/** One row of the connectivity matrix. */
export interface MatrixRow {
  readonly from: string;
  readonly fromIp: string;
  readonly to: string;
  readonly target: Expectation['target'];
  /** TCP to the responder: did it answer, what source did it see, how long connect to answer took. */
  readonly tcp: {
    readonly ok: boolean;
    readonly seen: string | null;
    readonly ms: number | null;
    readonly error?: string;
  };
  /** ICMP echo (pod targets only): null when not tried. */
  readonly ping: { readonly ok: boolean; readonly rttMs: number | null } | null;
  readonly expectedSources: readonly string[];
  /** TCP answered, the source seen is one expected, and the ping (if any) was answered. */
  readonly pass: boolean;
}

/** Every pod to every remote global IP the scenario expects it to reach: TCP (source seen by the receiver) and ping. */
export async function connectivityMatrix(
  built: BuiltScenario,
  opts: { timeoutMs?: number; tries?: number } = {},
): Promise<MatrixRow[]> {
  const { scenario } = built;
  const rows: MatrixRow[] = [];
  for (const pod of scenario.pods) {
    const ns = built.ns[pod.name]!;
    const exps = scenario.expectations.filter((x) => x.from === pod.name);
    if (exps.length === 0) continue;
    const targets = exps.map((x) => ({
      host: x.to,
      port: x.port,
      timeoutMs: opts.timeoutMs ?? 3000,
      tries: opts.tries ?? 2,
    }));
    const r = await ns.run(process.execPath, ['-e', CLIENT, JSON.stringify(targets)], { timeoutMs: 60_000 });
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    for (const [i, x] of exps.entries()) {
      const t =
        lines[i] === undefined ? { ok: false, error: r.stderr.trim() || 'no output' } : JSON.parse(lines[i]!);
      const ping = x.ping ? await pingOnce(ns, x.to) : null;
      const seen: string | null = t.ok ? t.seen : null;
      rows.push({
        from: x.from,
        fromIp: pod.ip,
        to: x.to,
        target: x.target,
        tcp: { ok: t.ok, seen, ms: t.ok ? t.ms : null, ...(t.ok ? {} : { error: t.error }) },
        ping: ping === null ? null : { ok: ping.ok, rttMs: ping.rttMs },
        expectedSources: x.expectedSources,
        pass: t.ok && seen !== null && x.expectedSources.includes(seen) && (ping === null || ping.ok),
      });
    }
  }
  return rows;
}

export interface MtuResult {
  readonly planned: number;
  readonly limitedBy: string;
  /** `ping -M do` with an IPv4 packet of exactly `planned` bytes. */
  readonly largest: { readonly ok: boolean; readonly output: string };
  /** The same with one byte more: must fail with an error naming the MTU. */
  readonly overByOne: { readonly ok: boolean; readonly output: string; readonly reportedMtu: number | null };
}

/** The DF ping proof between the scenario's MTU pair: the planned maximum passes, one byte more is refused. */
export async function measureMtu(built: BuiltScenario): Promise<MtuResult> {
  const { mtu } = built.scenario;
  const ns = built.ns[mtu.from]!;
  const df = (size: number) => pingOnce(ns, mtu.to, ['-M', 'do', '-s', String(size - 28)]);
  const largest = await df(mtu.largestDfPing);
  const over = await df(mtu.largestDfPing + 1);
  const m = /mtu ?= ?(\d+)/.exec(over.output);
  return {
    planned: mtu.largestDfPing,
    limitedBy: mtu.limitedBy,
    largest: { ok: largest.ok, output: largest.output },
    overByOne: { ok: over.ok, output: over.output, reportedMtu: m === null ? null : Number(m[1]) },
  };
}

export interface FailoverResult {
  readonly cluster: ClusterName;
  readonly from: string;
  readonly to: string;
  /** electGateway's decision that handed over the role. */
  readonly action: string;
  /** Milliseconds from the cut (processes ended, link down) to: the lease takeover, the plans applied, the first reply. */
  readonly electedMs: number;
  readonly appliedMs: number;
  readonly firstReplyMs: number;
  /** The pings' source and destination. */
  readonly probe: { readonly from: string; readonly to: string };
  readonly change: GatewayChange;
}

/** Applies a planned gateway change: the new gateway's cable and NAT, the remote gateways' failover, then the route diffs. */
async function applyGatewayChange(
  built: BuiltScenario,
  change: GatewayChange,
  dead: ReadonlySet<string>,
): Promise<void> {
  // The new gateway's routes name its cable device: the cable first.
  await startCable(built, change.to, change.cable.plan, change.cable.mssNft);
  await built.ns[change.to]!.must('nft', ['-f', '-'], { input: change.nat.nft });
  // Remote cables move before the node diffs: a gateway route via the new VTEP resolves through the new FDB.
  for (const r of change.remotes) {
    const ns = built.ns[r.node]!;
    const f = renderFailover(r.failover, 4);
    const iface = r.after.driver === 'libreswan' ? '' : r.after.interfaceName;
    for (const key of f.wgRemovePeers) await ns.must('wg', ['set', iface, 'peer', key, 'remove']);
    const addconf = f.wgAddconf.reveal();
    if (addconf !== '') {
      const file = join(built.secretDir, `${iface}-failover.conf`);
      writeSecretFile(file, addconf);
      await ns.must('wg', ['addconf', iface, file]);
    }
    if (f.ipBatch !== '') await ns.ipBatch(f.ipBatch);
    if (f.bridgeBatch !== '') await ns.must('bridge', ['-batch', '-'], { input: f.bridgeBatch });
    built.cables[r.node] = r.after;
  }
  for (const d of change.nodeDiffs) if (!dead.has(d.node)) await applyPlan(built.ns[d.node]!, d.diff);
  built.active[change.cluster] = change.to;
}

/**
 * Cuts `cluster`'s active gateway (ends its processes, takes its underlay link down) while a pod of the
 * other cluster pings a pod of this one; the standby takes over through electGateway once the lease
 * expires, and planGatewayChange's plans are applied. Returns the times from the cut.
 */
export async function failover(built: BuiltScenario, cluster: ClusterName = 'east'): Promise<FailoverResult> {
  const { scenario } = built;
  if (scenario.mode !== 'gateway') throw new Error(`failover: the scenario is in ${scenario.mode} mode`);
  const probe = scenario.expectations.find((x) => x.ping && x.target.cluster === cluster);
  if (probe === undefined) throw new Error(`failover: no pod global IP in ${cluster} to ping`);
  const old = built.active[cluster];
  const opts = { leaseDurationSeconds: scenario.leaseDurationSeconds };
  const ping = await built.ns[probe.from]!.start('ping', ['-n', '-D', '-i', '0.1', '-W', '1', probe.to]);
  try {
    const replies = () =>
      [...ping.output().matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]) * 1000);
    for (let i = 0; i < 100 && replies().length < 3; i++) await sleep(50);
    if (replies().length < 3) throw new Error(`failover: no pings through before the cut: ${ping.output()}`);
    // The holder's controller renews right before it dies: the standby must wait out a full lease.
    const renew = electGateway(
      candidates(scenario, cluster, new Set()),
      built.leases[cluster],
      Date.now(),
      opts,
    );
    built.leases[cluster] = renew.lease;

    const dead = new Set([old]);
    const wg = built.processes.wireguard[old];
    if (wg !== undefined) await wg.stop();
    await built.ns[old]!.must('ip', ['link', 'set', 'eth0', 'down']);
    const cut = Date.now();

    let e = electGateway(candidates(scenario, cluster, dead), built.leases[cluster], Date.now(), opts);
    const deadline = cut + scenario.leaseDurationSeconds * 1000 + 10_000;
    while (e.active === old || e.active === null) {
      if (Date.now() > deadline)
        throw new Error(`failover: no takeover in ${cluster}: ${e.action}, ${e.reason}`);
      await sleep(Math.max(10, Math.min(100, (e.nextActionAt ?? Date.now() + 100) - Date.now())));
      e = electGateway(candidates(scenario, cluster, dead), built.leases[cluster], Date.now(), opts);
    }
    built.leases[cluster] = e.lease;
    const elected = Date.now();
    const change = planGatewayChange(scenario, cluster, e.active);
    await applyGatewayChange(built, change, dead);
    const applied = Date.now();
    const end = Date.now() + 20_000;
    const firstAfterCut = () => replies().find((t) => t > cut);
    while (firstAfterCut() === undefined && Date.now() < end) await sleep(50);
    const first = firstAfterCut();
    if (first === undefined)
      throw new Error(`failover: no reply after the cut within 20 s: ${ping.output().slice(-500)}`);
    return {
      cluster,
      from: old,
      to: e.active,
      action: e.action,
      electedMs: elected - cut,
      appliedMs: applied - cut,
      firstReplyMs: Math.round(first - cut),
      probe: { from: probe.from, to: probe.to },
      change,
    };
  } finally {
    await ping.stop();
  }
}

/**
 * What the kernel of a node or pod holds, read back with `ip -json`/`bridge -json` and parsed, limited to
 * what `desired` manages (scopeToPlan). Veth peers are named through each pod namespace's netnsid.
 */
export async function readBack(built: BuiltScenario, name: string, desired: Plan): Promise<Plan> {
  const ns = built.ns[name]!;
  const json = async (cmd: string, args: readonly string[]) => {
    const out = await ns.must(cmd, args);
    return out.trim() === '' ? [] : JSON.parse(out);
  };
  const ids = (await json('ip', ['-json', 'netns', 'list-id'])) as Array<{ nsid: number; name?: string }>;
  const peerLinks: Record<string, unknown> = {};
  for (const p of built.scenario.pods.filter((x) => x.node === name)) {
    const id = ids.find((x) => x.name === built.ns[p.name]!.name);
    if (id !== undefined) peerLinks[id.nsid] = await built.ns[p.name]!.ipJson(['link', 'show']);
  }
  const observed = parseIpJson({
    routes: await json('ip', ['-json', 'route', 'show', 'table', 'all']),
    routes6: await json('ip', ['-6', '-json', 'route', 'show', 'table', 'all']),
    rules: await json('ip', ['-json', 'rule', 'show']),
    rules6: await json('ip', ['-6', '-json', 'rule', 'show']),
    neigh: await json('ip', ['-json', 'neigh', 'show']),
    fdb: await json('bridge', ['-json', 'fdb', 'show']),
    links: await json('ip', ['-json', '-details', 'link', 'show']),
    addrs: await json('ip', ['-json', 'addr', 'show']),
    peerLinks,
  });
  return scopeToPlan(observed, desired);
}

/** Forwarded IPv4 datagrams so far in a namespace (`Ip: ForwDatagrams`), to tell whether a node carried traffic. */
export async function forwardedPackets(ns: Netns): Promise<number> {
  const [head, values] = (await ns.must('cat', ['/proc/net/snmp']))
    .split('\n')
    .filter((l) => l.startsWith('Ip:'))
    .map((l) => l.trim().split(/\s+/));
  const i = head!.indexOf('ForwDatagrams');
  return Number(values![i]);
}

/** Ends everything the build started and deletes its namespaces and secret files. */
export async function teardown(built: BuiltScenario): Promise<void> {
  try {
    await built.lab.cleanup();
  } finally {
    rmSync(built.secretDir, { recursive: true, force: true });
  }
}
