import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateScenarioKeys } from '../../e2e/kernel';
import { planScenario } from '../../e2e/scenario';
import { describeKernel, existingNamespaces } from '../../testing/netns';
import { root, runExample } from '../support';
import { renderPlanText } from './format';
import { demoDocument, renderJson } from './json';
import { planView } from './plan-view';

const MAIN = 'examples/demo/main.ts';

function demo(args: readonly string[], opts: { asNobody?: boolean; timeoutMs?: number } = {}) {
  const node = [process.execPath, '--import', 'tsx', MAIN, ...args];
  // Dropping root shows what an unprivileged user sees. That user can read their own checkout; nobody
  // can't read one under a 0700 directory (/root, mktemp -d), so it keeps CAP_DAC_READ_SEARCH, and only that.
  const nobody = [
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--inh-caps=+dac_read_search',
    '--ambient-caps=+dac_read_search',
  ];
  const cmd = opts.asNobody ? [...nobody, ...node] : node;
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    cwd: root,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const privateKeys = (keys: Record<string, { privateKey: { reveal(): string } }> | null) =>
  Object.values(keys ?? {}).map((k) => k.privateKey.reveal());

describe('pnpm demo (plan only)', () => {
  const scenario = planScenario({ driver: 'wireguard', mode: 'gateway' });
  let text = '';
  let json = '';
  beforeAll(() => {
    text = runExample(MAIN);
    json = runExample(MAIN, '--json');
  });

  it('prints every section: clusters, global IPs, pods, routes, NAT, tunnel, MTU and the checks', () => {
    for (const heading of [
      'Clusters',
      'Global IPs',
      'Pods',
      'Node routes (route-planner)',
      'Pod routes (planPodRoutes)',
      'NAT (Globalnet',
      'Tunnel (cable, wireguard)',
      'MTU and MSS',
      'What --apply checks',
    ])
      expect(text).toMatch(new RegExp(`^${esc(heading)}`, 'm'));
    for (const n of scenario.nodes)
      for (const r of n.routes.routes)
        expect(text).toMatch(new RegExp(`${esc(r.dst)}\\s+\\S+\\s+${esc(r.dev!)}`));
    expect(text).toMatch(/^\s+largest DF ping\s+1440\s/m);
  });

  it('shows both clusters on the same pod and service CIDRs, each with its own global CIDR', () => {
    const [west, east] = scenario.clusters;
    expect(west.podCidr).toBe(east.podCidr);
    expect(west.serviceCidr).toBe(east.serviceCidr);
    expect(west.globalCidr).not.toBe(east.globalCidr);
    for (const c of scenario.clusters)
      expect(text).toMatch(
        new RegExp(
          `^\\s+${c.name}\\s+${esc(c.podCidr)}\\s+${esc(c.serviceCidr)}\\s+${esc(c.globalCidr)}\\s`,
          'm',
        ),
      );
    expect(text).toContain(`overlapping: ${west.podCidr}, ${west.serviceCidr} · global CIDRs distinct`);
  });

  it('--json is one JSON document on stdout with the global IPs planScenario gave', () => {
    const doc = JSON.parse(json);
    expect(doc).toMatchObject({ driver: 'wireguard', mode: 'gateway', applied: false });
    const ips = (kind: string) =>
      doc.globalIps
        .filter((g: { kind: string }) => g.kind === kind)
        .map((g: { globalIp: string }) => g.globalIp);
    expect(ips('service')).toEqual(scenario.clusters.map((c) => c.service.globalIp));
    expect(ips('pod')).toEqual(scenario.pods.flatMap((p) => (p.globalIp === null ? [] : [p.globalIp])));
    expect(ips('egress')).toEqual(scenario.clusters.map((c) => `${c.egressIps[0]}-${c.egressIps.at(-1)}`));
    expect(doc.clusters.map((c: { globalCidr: string }) => c.globalCidr)).toEqual(
      scenario.clusters.map((c) => c.globalCidr),
    );
    // The full plans ride along: the NAT each gateway loads, as planned.
    for (const n of scenario.nodes.filter((x) => x.nat !== null)) {
      const node = doc.plans.nodes.find((x: { name: string }) => x.name === n.name);
      expect(node.nat.nft).toBe(n.nat!.nft);
    }
  });

  it('never prints a private key: both outputs carry the public keys and [redacted] instead', () => {
    const secrets = privateKeys(scenario.keys);
    expect(secrets).toHaveLength(4);
    for (const out of [text, json]) {
      for (const s of secrets) expect(out).not.toContain(s);
      for (const k of Object.values(scenario.keys!)) expect(out).toContain(k.publicKey);
      expect(out).toContain('[redacted]');
    }
  });

  it('with freshly generated keys (what --apply uses) neither rendering holds a private key', () => {
    const s = planScenario({ driver: 'wireguard', mode: 'gateway', keys: generateScenarioKeys() });
    const view = planView(s);
    const outputs = [
      renderPlanText(view),
      renderPlanText(view, true),
      renderJson(demoDocument(s, view, null)),
    ];
    for (const out of outputs) for (const secret of privateKeys(s.keys)) expect(out).not.toContain(secret);
    expect(outputs[2]).toContain(s.keys!['west-gw']!.publicKey);
  });

  it('prints each variant: VXLAN cable, and P2P with the NAT on the workers and no cable', () => {
    const vx = demo(['--', '--driver', 'vxlan']);
    expect(vx.code).toBe(0);
    expect(vx.stdout).toMatch(/^Tunnel \(cable, vxlan\)$/m);
    expect(vx.stdout).toMatch(/vxlan-tunnel\s+1450\s+vni 1000/);
    const p2p = demo(['--mode', 'p2p', '--json']);
    expect(p2p.code).toBe(0);
    const doc = JSON.parse(p2p.stdout);
    expect(doc.tunnels).toEqual([]);
    expect(doc.natScope.map((n: { node: string }) => n.node)).toEqual(['west-worker', 'east-worker']);
  });

  it('a bad --driver exits 2 naming the value, with the usage text', () => {
    const r = demo(['--driver', 'ipsec']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--driver "ipsec" is not one of wireguard, vxlan');
    expect(r.stderr).toContain('usage: pnpm demo');
    const m = demo(['--mode=mesh']);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('"mesh"');
  });

  it('--apply without root exits 2 and says what to run instead', () => {
    const r = demo(['--apply', '--driver', 'vxlan'], { asNobody: process.getuid?.() === 0 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--apply needs root');
    expect(r.stderr).toContain('pnpm demo --apply --driver vxlan --mode gateway');
  });
});

describeKernel(
  'pnpm demo --apply (real kernel)',
  ['root', 'netns', 'veth', 'vxlan', 'nft', 'iptables', 'ping'],
  () => {
    it('vxlan/gateway: every matrix row passes, the failover time is shown, no namespace is left', () => {
      const r = demo(['--apply', '--driver', 'vxlan', '--mode', 'gateway'], { timeoutMs: 240_000 });
      const lab = new RegExp(`Built in namespaces (isx-${r.pid}-demo-[0-9a-f]+)-\\*`).exec(r.stdout)?.[1];
      expect(lab, r.stdout + r.stderr).toBeDefined();
      expect(existingNamespaces(`isx-${r.pid}-`)).toEqual([]);
      expect(r.stderr).toMatch(/^\[\s*[\d.]+ s\] connectivity matrix/m);
      expect(r.stdout, r.stderr).toMatch(/^Connectivity matrix: 8\/8 passed$/m);
      const rows = r.stdout.split('Connectivity matrix')[1]!.split('\n\n')[0]!.split('\n').slice(3);
      expect(rows).toHaveLength(8);
      for (const row of rows) expect(row).toMatch(/ pass$/);
      expect(r.stdout).toMatch(/^MTU check: pass$/m);
      expect(r.stdout).toMatch(/^Failover: east gateway east-gw → east-gw2 .*traffic back after \d+ ms$/m);
      expect(r.stdout).toMatch(/^Result: all checks passed\.$/m);
      expect(r.code).toBe(0);
    }, 300_000);
  },
);

describeKernel(
  'pnpm demo --apply stopped mid-run (real kernel)',
  ['root', 'netns', 'veth', 'vxlan', 'nft', 'iptables', 'wireguard-go', 'wg', 'ping'],
  () => {
    it('SIGTERM once WireGuard is up: exits 143 and leaves no namespace, process, key directory or wg socket', async () => {
      const demoDirs = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('isthmus-demo-')));
      const dirsBefore = demoDirs();
      const wgSocks = () => (existsSync('/var/run/wireguard') ? readdirSync('/var/run/wireguard') : []);
      // What the run owns, read at the cut: the processes in its namespaces and the wg sockets of
      // its interfaces (other test files run wireguard-go at the same time, so nothing global).
      const runPids: number[] = [];
      const runSocks: string[] = [];
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--apply', '--driver', 'wireguard'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let signalled = false;
      let ownDir: string | undefined;
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr += d;
        // The build is done (tunnels up, key files written) once the matrix starts: cut it there.
        if (!signalled && /connectivity matrix/.test(stderr)) {
          signalled = true;
          ownDir = [...demoDirs()].find((x) => !dirsBefore.has(x));
          for (const ns of existingNamespaces(`isx-${child.pid}-`)) {
            const out = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' }).stdout;
            runPids.push(...out(['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number));
            const links = out(['-n', ns, '-o', 'link', 'show']).matchAll(/^\d+: ([^:@]+)/gm);
            for (const [, name] of links)
              if (wgSocks().includes(`${name}.sock`)) runSocks.push(`${name}.sock`);
          }
          child.kill('SIGTERM');
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      const code = await exited.finally(() => clearTimeout(timer));
      expect(signalled, stderr).toBe(true);
      console.log(`[demo SIGTERM] ${runPids.length} processes, ${runSocks.length} wg sockets at the cut`);
      expect(ownDir, 'the run had its private directory while it ran').toBeDefined();
      expect(runPids.length, 'processes ran in the namespaces').toBeGreaterThan(0);
      expect(runSocks.length, 'wireguard-go sockets existed for the gateways').toBeGreaterThan(0);
      expect(code, stderr).toBe(143);
      expect(stderr).toContain('demo: SIGTERM: tearing down');
      expect(existingNamespaces(`isx-${child.pid}-`)).toEqual([]);
      expect(existsSync(join(tmpdir(), ownDir!))).toBe(false);
      expect([...demoDirs()].filter((x) => !dirsBefore.has(x))).toEqual([]);
      // No process of this run is left (wireguard-go, responders), and none of its wg sockets.
      // Alive: a process that is not a zombie (a SIGKILLed one is gone once its parent, often init
      // after the demo exited, reaps it); give the reaping a moment.
      const alive = (pid: number) => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 40 && runPids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
      expect(runPids.filter(alive)).toEqual([]);
      expect(wgSocks().filter((x) => runSocks.includes(x))).toEqual([]);
    }, 300_000);
  },
);
