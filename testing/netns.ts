// Shared by the real-kernel tests of every package and by e2e/ (private: never published).
// A Lab owns the network namespaces and processes it starts and removes all of them, by name and
// by pid, whether the test passed or failed. Names carry the creating pid, so a later run can
// sweep what a crashed run left behind without touching anybody else's namespaces.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'vitest';

/** What a real-kernel test may need. */
export type Need =
  | 'root'
  | 'netns'
  | 'veth'
  | 'vxlan'
  | 'nft'
  | 'iptables'
  | 'ipset'
  | 'wireguard-go'
  | 'wg'
  | 'iperf3'
  | 'ping'
  | 'libreswan';

const TOOL_OF: Partial<Record<Need, string>> = {
  nft: 'nft',
  iptables: 'iptables-restore',
  ipset: 'ipset',
  'wireguard-go': 'wireguard-go',
  wg: 'wg',
  iperf3: 'iperf3',
  ping: 'ping',
  libreswan: 'ipsec',
};

const APT_OF: Partial<Record<Need, string>> = {
  nft: 'nftables',
  iptables: 'iptables',
  ipset: 'ipset',
  'wireguard-go': 'wireguard-go',
  wg: 'wireguard-tools',
  iperf3: 'iperf3',
  ping: 'iputils-ping',
  libreswan: 'libreswan',
};

const PREFIX = 'isx';

function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((d) => d !== '' && existsSync(`${d}/${tool}`));
}

const probed = new Map<Need, string | null>();

/** Why this need is unmet on this machine, or null when it is met. Probes once per process. */
function probe(need: Need): string | null {
  const cached = probed.get(need);
  if (cached !== undefined) return cached;
  let why: string | null = null;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (need === 'root') {
    why = root ? null : 'not running as root';
  } else if (need === 'netns' || need === 'veth' || need === 'vxlan') {
    if (!root) why = 'not running as root';
    else if (!onPath('ip')) why = '`ip` (apt iproute2) is not installed';
    else {
      // Create and delete a throwaway namespace (and device) to prove the kernel allows it.
      const name = `${PREFIX}-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
      const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
      if (add.status !== 0) why = `cannot create a network namespace: ${add.stderr.trim()}`;
      else {
        if (need !== 'netns') {
          const args =
            need === 'veth'
              ? ['link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']
              : ['link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'nolearning'];
          const r = spawnSync('ip', ['-n', name, ...args], { encoding: 'utf8' });
          if (r.status !== 0) why = `the kernel refused a ${need} device: ${r.stderr.trim()}`;
        }
        spawnSync('ip', ['netns', 'del', name]);
      }
    }
  } else {
    const tool = TOOL_OF[need]!;
    if (!onPath(tool)) why = `\`${tool}\` (apt ${APT_OF[need]}) is not installed`;
  }
  probed.set(need, why);
  return why;
}

/** The unmet needs, each with its reason; empty when everything is there. */
export function missing(needs: readonly Need[]): string[] {
  const out: string[] = [];
  for (const n of needs) {
    const why = probe(n);
    if (why !== null) out.push(`${n}: ${why}`);
  }
  return out;
}

/** True under CI, where a missing capability fails the run instead of skipping. */
const strict = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `describe` for tests that need root or kernel features. Where a need is unmet the block is
 * skipped and its title says why (and a warning is printed), except under CI=true, where a
 * single failing test names what is missing.
 */
export function describeKernel(name: string, needs: readonly Need[], body: () => void): void {
  const gaps = missing(needs);
  if (gaps.length === 0) {
    describe(name, body);
    return;
  }
  const reason = gaps.join('; ');
  if (strict) {
    describe(name, () => {
      it('has the kernel features and tools it needs (CI=true makes a gap a failure)', () => {
        throw new Error(`missing under CI: ${reason}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, body);
}

// ---------------------------------------------------------------------------------------------
// Running commands

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Text written to the command's stdin (for `ip -batch -`, `nft -f -`, `iptables-restore`). */
  readonly input?: string;
  /** Milliseconds before the command is killed; default 30 s. */
  readonly timeoutMs?: number;
}

/** Runs a command to completion (never through a shell) and returns its exit code and output. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the command may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but throws with the command line and its stderr when the exit code is not 0. */
async function must(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Namespaces

export interface Netns {
  /** The kernel's name for it (unique per run). */
  readonly name: string;
  /** Runs a command inside the namespace. */
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs a command inside the namespace and throws unless it exits 0; returns stdout. */
  must(cmd: string, args: readonly string[], opts?: RunOptions): Promise<string>;
  /** `ip -batch -` inside the namespace. */
  ipBatch(script: string): Promise<void>;
  /** `ip -json <args>` inside the namespace, parsed. */
  ipJson<T = unknown>(args: readonly string[]): Promise<T>;
  /**
   * Starts a long-running process inside the namespace. The lab records its pid and ends it at
   * cleanup. Resolves once the process has been spawned.
   */
  start(cmd: string, args: readonly string[]): Promise<Started>;
}

export interface Started {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Output so far (stdout and stderr interleaved). */
  output(): string;
  /** Ends the process (TERM, then KILL after 2 s) and waits for it. */
  stop(): Promise<void>;
}

/** Short random suffix for names that must be unique (interfaces are limited to 15 bytes). */
function uniqueSuffix(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces named `isx-<pid>-...` whose creating process is gone (a crashed earlier run). */
function sweepStale(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = /^isx-(\d+)-/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const pids = spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' })
      .stdout.split(/\s+/)
      .filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {}
    }
    if (spawnSync('ip', ['netns', 'del', n]).status === 0) removed.push(n);
  }
  return removed;
}

/**
 * A set of namespaces and processes that belong to one test file. Create it in `beforeAll` (or at
 * the top of a test) and call `cleanup()` in `afterAll`/`finally`: it stops every process it
 * started (by pid), kills whatever else still runs inside its namespaces, and deletes them.
 */
export class Lab {
  readonly id: string;
  private readonly namespaces: string[] = [];
  private readonly processes: Started[] = [];

  constructor(tag: string) {
    if (!/^[a-z0-9]{1,8}$/.test(tag))
      throw new Error(`lab tag must be 1-8 of [a-z0-9]: ${JSON.stringify(tag)}`);
    this.id = `${PREFIX}-${process.pid}-${tag}-${uniqueSuffix(2)}`;
    sweepStale();
  }

  /** Creates namespace `<lab id>-<name>` with loopback up. */
  async netns(name: string): Promise<Netns> {
    const full = `${this.id}-${name}`;
    await must('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    const ns = this.wrap(full);
    await ns.must('ip', ['link', 'set', 'lo', 'up']);
    // Link-local IPv6 addresses would otherwise wait out duplicate address detection (about 2 s).
    await ns.must('sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0']);
    return ns;
  }

  /** A veth pair between two namespaces, both ends up, with optional addresses ("198.18.0.1/24"). */
  async veth(
    a: Netns,
    aIf: string,
    b: Netns,
    bIf: string,
    addrs?: { a?: string[]; b?: string[] },
  ): Promise<void> {
    const tmp = `v${uniqueSuffix(5)}`;
    await must('ip', ['-n', a.name, 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', tmp]);
    await must('ip', ['-n', a.name, 'link', 'set', tmp, 'netns', b.name]);
    await b.must('ip', ['link', 'set', tmp, 'name', bIf]);
    for (const addr of addrs?.a ?? []) await a.must('ip', ['addr', 'add', addr, 'dev', aIf, 'nodad']);
    for (const addr of addrs?.b ?? []) await b.must('ip', ['addr', 'add', addr, 'dev', bIf, 'nodad']);
    await a.must('ip', ['link', 'set', aIf, 'up']);
    await b.must('ip', ['link', 'set', bIf, 'up']);
  }

  private wrap(name: string): Netns {
    const exec = (cmd: string, args: readonly string[]) => ['netns', 'exec', name, cmd, ...args];
    return {
      name,
      run: (cmd, args, opts) => run('ip', exec(cmd, args), opts),
      must: (cmd, args, opts) => must('ip', exec(cmd, args), opts),
      async ipBatch(script) {
        await must('ip', ['-n', name, '-batch', '-'], { input: script });
      },
      async ipJson<T>(args: readonly string[]) {
        const out = await must('ip', ['-n', name, '-json', ...args]);
        return (out.trim() === '' ? [] : JSON.parse(out)) as T;
      },
      start: (cmd, args) => this.start(name, cmd, args),
    };
  }

  private start(ns: string, cmd: string, args: readonly string[]): Promise<Started> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.once('error', reject);
      child.once('spawn', () => {
        const started: Started = {
          pid: child.pid!,
          child,
          output: () => out,
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 2000);
            await exited;
            clearTimeout(t);
          },
        };
        this.processes.push(started);
        resolve(started);
      });
    });
  }

  /** Stops every process (by pid), then kills stragglers inside the namespaces and deletes them. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    await Promise.all(this.processes.splice(0).map((p) => p.stop().catch((e) => errors.push(String(e)))));
    for (const ns of this.namespaces.splice(0).reverse()) {
      // Processes that daemonised themselves (wireguard-go forks) are found through the namespace.
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .stdout.split(/\s+/)
        .filter(Boolean);
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {}
      }
      const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
      if (r.status !== 0) errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    if (errors.length > 0) throw new Error(`lab cleanup: ${errors.join('; ')}`);
  }
}

/** Namespaces that currently exist whose names start with the lab's id (for leak assertions). */
export function existingNamespaces(prefix: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
