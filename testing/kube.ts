// A real Kubernetes API server for tests (private: never published), the way controller-runtime's
// envtest does it: etcd + kube-apiserver, no kubelet, no controller-manager, no scheduler.
//
// Local mode (default). `startKube()` runs etcd (/usr/bin/etcd) and the kube-apiserver that
// scripts/install-kube.sh builds into $ISTHMUS_KUBE_CACHE/bin (default /var/cache/isthmus-kube/bin),
// each on free loopback ports, in one temp dir per handle (etcd data, pki, token file, logs).
// Auth: a static admin token in system:masters; RBAC authorization; ServiceAccount signing keys,
// issuer and audiences so TokenRequest works. `stop()` ends both processes by pid and removes the dir.
// What is absent because nothing runs but the API server: pods stay Pending; no Endpoints,
// EndpointSlices, ServiceAccount token Secrets or default ServiceAccounts (the ServiceAccount
// admission plugin is off so pods can be created anyway); deleted namespaces stay Terminating;
// ownerReferences do not cascade (no garbage collector). The server is 1.20.2: no discovery.k8s.io/v1.
//
// External mode. With ISTHMUS_TEST_KUBECONFIG=/path/to/kubeconfig, the same suites run against
// that cluster (kind, k3d, a real one): nothing is started, `kubeConfig` is that file's current
// context, and `stop()` only deletes what the handle created (namespaces from
// `createTestNamespace`, the ServiceAccounts `serviceAccountKubeConfig` made, and its temp files).
// Suites must put everything they create in namespaces from `createTestNamespace(prefix)` (unique
// names, labelled `isthmus.io/test-run`) or name cluster-scoped objects uniquely, so parallel runs
// and shared clusters do not collide. kubectl is $ISTHMUS_KUBECTL, else the cached 1.20.2 one, else
// `kubectl` on PATH.
//
// `describeKube(name, body)` wraps a suite: without the binaries (and no ISTHMUS_TEST_KUBECONFIG) it
// skips visibly and says how to fix it (`bash scripts/install-kube.sh`); under CI=true it fails.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type RunResult, run } from './netns';

export type { RunResult } from './netns';

/** Where scripts/install-kube.sh keeps its build and binaries. */
export const KUBE_CACHE = process.env.ISTHMUS_KUBE_CACHE ?? '/var/cache/isthmus-kube';
/** The version the cached binaries must report. */
export const KUBE_VERSION = 'v1.20.2';
const APISERVER = join(KUBE_CACHE, 'bin', 'kube-apiserver');
const KUBECTL = join(KUBE_CACHE, 'bin', 'kubectl');
const ETCD = process.env.ISTHMUS_ETCD ?? '/usr/bin/etcd';
const DIR_PREFIX = 'isthmus-kube-';

export interface KubectlOptions {
  /** Text for kubectl's stdin (`apply -f -`). */
  readonly input?: string;
  /** Run as someone else (e.g. a ServiceAccount's KubeConfig); default the admin. */
  readonly kubeConfig?: KubeConfig;
  /** Milliseconds before kubectl is killed; default 60 s. */
  readonly timeoutMs?: number;
}

export interface KubeResponse<T = unknown> {
  readonly status: number;
  /** Parsed JSON body (a Status object on errors), or the raw text when it is not JSON. */
  readonly body: T;
}

export interface Kube {
  /** Admin credentials (system:masters locally; the file's current context in external mode). */
  readonly kubeConfig: KubeConfig;
  /** The API server URL, e.g. https://127.0.0.1:41234. */
  readonly server: string;
  /** True when the handle wraps ISTHMUS_TEST_KUBECONFIG instead of processes it started. */
  readonly external: boolean;
  /** Pids of etcd and kube-apiserver (local mode only; for leak checks). */
  readonly pids: { readonly etcd?: number; readonly apiserver?: number };
  /** The handle's temp dir (removed by stop()). */
  readonly dir: string;
  /** How long startKube took, in ms: etcd healthy, then apiserver ready (0s in external mode). */
  readonly startup: { readonly etcdMs: number; readonly apiserverMs: number; readonly totalMs: number };
  /** Writes `kc` (default: the admin's) as a kubeconfig file, mode 0600, in the temp dir; returns its path. */
  kubeconfigFile(kc?: KubeConfig): string;
  /** Runs the version-matched kubectl against this server (never through a shell). */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<RunResult>;
  /** One API call as `kc` (default admin); PATCH is a JSON merge patch. Non-2xx statuses are returned, not thrown. */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    kc?: KubeConfig,
  ): Promise<KubeResponse<T>>;
  /**
   * Creates ServiceAccount `namespace/name` if missing (the namespace must exist), gets a 1 h token
   * through the TokenRequest API and returns a KubeConfig that authenticates as it.
   */
  serviceAccountKubeConfig(namespace: string, name: string): Promise<KubeConfig>;
  /** Creates a uniquely named namespace `<prefix>-<random>`; external mode deletes it at stop(). */
  createTestNamespace(prefix: string): Promise<string>;
  /** Last lines of the etcd and apiserver logs (local mode; empty strings otherwise). */
  logs(lines?: number): { readonly etcd: string; readonly apiserver: string };
  /** Ends the processes by pid and removes the temp dir (external: deletes what it created). Idempotent. */
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** 1-8 of [a-z0-9]; goes into the temp dir name and test namespace labels. Default "kube". */
  readonly tag?: string;
  /** Milliseconds to wait for /readyz; default 90 s. */
  readonly readyTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Availability

function binaryVersion(bin: string): string | null {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return r.stdout.trim();
}

let missingMemo: string | null | undefined;

/** Why a local API server cannot start here, or null when it can (or ISTHMUS_TEST_KUBECONFIG is set). */
export function kubeMissing(): string | null {
  if (missingMemo !== undefined) return missingMemo;
  const external = process.env.ISTHMUS_TEST_KUBECONFIG;
  let why: string | null = null;
  if (external !== undefined && external !== '') {
    if (!existsSync(external)) why = `ISTHMUS_TEST_KUBECONFIG=${external} does not exist`;
  } else if (!existsSync(ETCD)) {
    why = `${ETCD} is missing (apt etcd-server; run \`bash scripts/install-kube.sh\` as root)`;
  } else if (!existsSync(APISERVER) || !existsSync(KUBECTL)) {
    const gone = existsSync(APISERVER) ? KUBECTL : APISERVER;
    why = `${gone} is missing (run \`bash scripts/install-kube.sh\` as root, ~12 min the first time)`;
  } else {
    const v = binaryVersion(APISERVER);
    if (v === null || !v.includes(KUBE_VERSION))
      why = `${APISERVER} reports ${JSON.stringify(v)}, not ${KUBE_VERSION} (rerun \`bash scripts/install-kube.sh\`)`;
  }
  missingMemo = why;
  return why;
}

/** True under CI, where a missing API server fails the run instead of skipping. */
const strict = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `describe` for suites that need an API server. beforeAll starts one (or wraps
 * ISTHMUS_TEST_KUBECONFIG), afterAll stops it whether the tests passed or not; `getKube()` returns
 * the handle inside tests and hooks. Skips visibly when the binaries are missing; fails under CI=true.
 */
export function describeKube(
  name: string,
  body: (getKube: () => Kube) => void,
  opts: StartKubeOptions = {},
): void {
  const why = kubeMissing();
  if (why !== null) {
    if (strict) {
      describe(name, () => {
        it('has a kube-apiserver and etcd (CI=true makes a gap a failure)', () => {
          throw new Error(`missing under CI: ${why}`);
        });
      });
      return;
    }
    console.warn(`[skip] ${name}: ${why}`);
    describe.skip(`${name} [skipped: ${why}]`, () => body(() => unreachable()));
    return;
  }
  describe(name, () => {
    let kube: Kube | undefined;
    beforeAll(
      async () => {
        kube = await startKube(opts);
      },
      (opts.readyTimeoutMs ?? 90_000) + 30_000,
    );
    afterAll(async () => {
      await kube?.stop();
    }, 60_000);
    body(() => {
      if (kube === undefined) throw new Error(`describeKube(${name}): the API server did not start`);
      return kube;
    });
  });
}

function unreachable(): never {
  throw new Error('describeKube: suite is skipped');
}

// ---------------------------------------------------------------------------------------------
// Starting

/** Starts etcd + kube-apiserver (or wraps ISTHMUS_TEST_KUBECONFIG) and resolves once /readyz is ok. */
export async function startKube(opts: StartKubeOptions = {}): Promise<Kube> {
  const tag = opts.tag ?? 'kube';
  if (!/^[a-z0-9]{1,8}$/.test(tag))
    throw new Error(`kube tag must be 1-8 of [a-z0-9]: ${JSON.stringify(tag)}`);
  const external = process.env.ISTHMUS_TEST_KUBECONFIG;
  if (external !== undefined && external !== '') return wrapExternal(external, tag);
  const why = kubeMissing();
  if (why !== null) throw new Error(`startKube: ${why}`);
  sweepStale();
  // A free port can be taken between probing and binding: try again with new ports.
  let last: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startLocal(tag, opts.readyTimeoutMs ?? 90_000);
    } catch (e) {
      last = e;
      if (!(e instanceof PortInUse)) throw e;
    }
  }
  throw last;
}

class PortInUse extends Error {}

interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly log: string;
  readonly exited: Promise<void>;
}

function startProc(cmd: string, args: readonly string[], log: string): Proc {
  // The log file is the child's stdout and stderr directly: nothing to pump, nothing lost on a crash.
  const fd = openSync(log, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { child, pid: child.pid, log, exited };
}

// Every process still running when the worker exits is killed (a crashed test leaves none behind).
const live = new Set<ChildProcess>();
let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

async function stopProc(p: Proc, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills the processes and removes the dirs that a crashed earlier run (dead owner pid) left in tmp. */
function sweepStale(): void {
  let names: string[] = [];
  try {
    names = readdirSync(baseDir());
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^isthmus-kube-[a-z0-9]+-(\d+)-/.exec(n);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || alive(owner)) continue;
    const dir = join(baseDir(), n);
    for (const f of ['apiserver.pid', 'etcd.pid']) {
      const pid = Number(tail(join(dir, f), 1).trim());
      // Only a process whose command line names this dir is ours to kill.
      if (pid > 0 && alive(pid) && cmdline(pid).includes(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tmpfs when there is one: etcd fsyncs every write, and on a disk that slows startup and tests. */
function baseDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** GET over HTTP(S) with TLS verification off: only for polling health before the CA is known. */
function probe(url: string, token?: string): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const get =
      u.protocol === 'https:'
        ? httpsRequest(url, {
            rejectUnauthorized: false,
            headers: token ? { Authorization: `Bearer ${token}` } : {},
            timeout: 2000,
          })
        : httpRequestPlain(url);
    get.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    get.on('error', () => resolve(0));
    get.on('timeout', () => {
      get.destroy();
      resolve(0);
    });
    get.end();
  });
}

// etcd's /health is plain HTTP on loopback.
function httpRequestPlain(url: string) {
  return httpRequest(url, { timeout: 2000 });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  procs: readonly Proc[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (await check()) return;
    for (const p of procs) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) {
        const log = tail(p.log, 40);
        if (/address already in use/.test(log)) throw new PortInUse(`${what}: port in use`);
        throw new Error(`${what}: ${p.log} exited (${p.child.exitCode ?? p.child.signalCode}):\n${log}`);
      }
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(delay);
  }
}

async function startLocal(tag: string, readyTimeoutMs: number): Promise<Kube> {
  installExitHook();
  const t0 = Date.now();
  const dir = mkdtempSync(join(baseDir(), `${DIR_PREFIX}${tag}-${process.pid}-`));
  const dataDir = join(dir, 'etcd');
  const procs: Proc[] = [];
  const cleanupOnError = async () => {
    for (const p of procs.reverse()) await stopProc(p, 2000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync(dataDir, { mode: 0o700 });
    const [clientPort, peerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startProc(
      ETCD,
      [
        `--name=isthmus-${tag}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=isthmus-${tag}=${peerUrl}`,
        '--logger=zap',
        '--log-outputs=stderr',
      ],
      join(dir, 'etcd.log'),
    );
    procs.push(etcd);
    writeFileSync(join(dir, 'etcd.pid'), String(etcd.pid));

    // Credentials: the serving cert is self-signed by the apiserver itself (--cert-dir); we make the
    // ServiceAccount signing key and the admin token.
    const pki = join(dir, 'pki');
    mkdirSync(pki, { mode: 0o700 });
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs1', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(pki, 'tokens.csv'), `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 });

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = startProc(
      APISERVER,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        '--insecure-port=0',
        '--endpoint-reconciler-type=none',
        `--cert-dir=${join(dir, 'certs')}`,
        `--token-auth-file=${join(pki, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        `--api-audiences=${server}`,
        '--service-cluster-ip-range=10.96.0.0/12',
        // No controller-manager creates default ServiceAccounts or their token Secrets.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=0',
      ],
      join(dir, 'apiserver.log'),
    );
    procs.push(apiserver);
    writeFileSync(join(dir, 'apiserver.pid'), String(apiserver.pid));
    // Started together: the apiserver spends its first seconds building its API before it needs etcd.
    await waitFor('etcd', async () => (await probe(`${etcdUrl}/health`)) === 200, [etcd, apiserver], 30_000);
    const t1 = Date.now();

    await waitFor(
      'kube-apiserver',
      async () => (await probe(`${server}/readyz`, token)) === 200,
      [apiserver, etcd],
      readyTimeoutMs,
    );
    const ca = readFileSync(join(dir, 'certs', 'apiserver.crt'));
    // Filled in below once "default" exists; the handle holds the same object.
    const startup = { etcdMs: t1 - t0, apiserverMs: 0, totalMs: 0 };
    const kc = adminConfig(server, ca.toString('base64'), token);
    const handle = makeHandle({
      kc,
      server,
      external: false,
      dir,
      tag,
      pids: { etcd: etcd.pid, apiserver: apiserver.pid },
      startup,
      logs: (n) => ({ etcd: tail(etcd.log, n), apiserver: tail(apiserver.log, n) }),
      stopAll: async () => {
        await stopProc(apiserver, 10_000);
        await stopProc(etcd, 10_000);
        rmSync(dir, { recursive: true, force: true });
      },
    });
    // The bootstrap post-start hook makes "default"; RBAC bootstrap is part of /readyz already.
    await waitFor(
      'namespace default',
      async () => (await handle.request('GET', '/api/v1/namespaces/default')).status === 200,
      [apiserver, etcd],
      30_000,
    );
    startup.apiserverMs = Date.now() - t1;
    startup.totalMs = Date.now() - t0;
    return handle;
  } catch (e) {
    const logs = procs.map((p) => `--- ${p.log} (last lines)\n${tail(p.log, 25)}`).join('\n');
    await cleanupOnError();
    if (e instanceof PortInUse) throw e;
    throw new Error(`startKube: ${(e as Error).message}\n${logs}`);
  }
}

function adminConfig(server: string, caData: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'isthmus-test', server, caData, skipTLSVerify: false }],
    users: [{ name: 'admin', token }],
    contexts: [{ name: 'admin@isthmus-test', cluster: 'isthmus-test', user: 'admin' }],
    currentContext: 'admin@isthmus-test',
  });
  return kc;
}

function wrapExternal(file: string, tag: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`ISTHMUS_TEST_KUBECONFIG=${file}: no current cluster`);
  const dir = mkdtempSync(join(baseDir(), `${DIR_PREFIX}${tag}-${process.pid}-`));
  return makeHandle({
    kc,
    server: cluster.server,
    external: true,
    dir,
    tag,
    pids: {},
    startup: { etcdMs: 0, apiserverMs: 0, totalMs: 0 },
    logs: () => ({ etcd: '', apiserver: '' }),
    stopAll: async () => {
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The handle

interface HandleParts {
  readonly kc: KubeConfig;
  readonly server: string;
  readonly external: boolean;
  readonly dir: string;
  readonly tag: string;
  readonly pids: Kube['pids'];
  readonly startup: Kube['startup'];
  readonly logs: (lines?: number) => { etcd: string; apiserver: string };
  readonly stopAll: () => Promise<void>;
}

/** One API call as `kc`; JSON in and out. */
export async function kubeRequest<T = unknown>(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<KubeResponse<T>> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('kubeRequest: KubeConfig has no current cluster');
  const url = new URL(path, cluster.server);
  const opts: RequestOptions = {
    method,
    headers: { Accept: 'application/json' } as Record<string, string>,
  };
  await kc.applyToHTTPSOptions(opts);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    const headers = opts.headers as Record<string, string>;
    headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out after 30 s`)));
    req.end(payload);
  });
}

function kubectlBinary(): string {
  const env = process.env.ISTHMUS_KUBECTL;
  if (env !== undefined && env !== '') return env;
  return existsSync(KUBECTL) ? KUBECTL : 'kubectl';
}

function makeHandle(p: HandleParts): Kube {
  const namespaces: string[] = [];
  const serviceAccounts: string[] = [];
  let files = 0;
  let stopped: Promise<void> | undefined;

  const kubeconfigFile = (kc: KubeConfig = p.kc): string => {
    const file = join(p.dir, `kubeconfig-${++files}`);
    writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
    return file;
  };

  const handle: Kube = {
    kubeConfig: p.kc,
    server: p.server,
    external: p.external,
    pids: p.pids,
    dir: p.dir,
    startup: p.startup,
    kubeconfigFile,
    kubectl(args, opts = {}) {
      const file = kubeconfigFile(opts.kubeConfig ?? p.kc);
      const runOpts = {
        timeoutMs: opts.timeoutMs ?? 60_000,
        ...(opts.input !== undefined ? { input: opts.input } : {}),
      };
      return run(kubectlBinary(), [`--kubeconfig=${file}`, ...args], runOpts).finally(() =>
        rmSync(file, { force: true }),
      );
    },
    request: (method, path, body, kc) => kubeRequest(kc ?? p.kc, method, path, body),

    async serviceAccountKubeConfig(namespace, name) {
      const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`;
      const created = await kubeRequest(p.kc, 'POST', base, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name },
      });
      if (created.status === 201) serviceAccounts.push(`${base}/${encodeURIComponent(name)}`);
      else if (created.status !== 409) throw apiError(`create ServiceAccount ${namespace}/${name}`, created);
      const tr = await kubeRequest<{ status?: { token?: string } }>(
        p.kc,
        'POST',
        `${base}/${encodeURIComponent(name)}/token`,
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      );
      const token = tr.body?.status?.token;
      if (tr.status !== 201 || token === undefined)
        throw apiError(`TokenRequest for ${namespace}/${name}`, tr);
      const cluster = p.kc.getCurrentCluster()!;
      const kc = new KubeConfig();
      const user = `system:serviceaccount:${namespace}:${name}`;
      kc.loadFromOptions({
        clusters: [{ ...cluster }],
        users: [{ name: user, token }],
        contexts: [{ name: `${user}@${cluster.name}`, cluster: cluster.name, user }],
        currentContext: `${user}@${cluster.name}`,
      });
      return kc;
    },

    async createTestNamespace(prefix) {
      if (!/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(prefix))
        throw new Error(
          `createTestNamespace: prefix must be a DNS label of at most 42 chars: ${JSON.stringify(prefix)}`,
        );
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      const r = await kubeRequest(p.kc, 'POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'isthmus.io/test-run': `${p.tag}-${process.pid}` } },
      });
      if (r.status !== 201) throw apiError(`create namespace ${name}`, r);
      namespaces.push(name);
      return name;
    },

    logs: (lines = 30) => p.logs(lines),

    stop() {
      stopped ??= (async () => {
        // Locally the whole etcd goes away; on a shared cluster we remove only what we made.
        if (p.external) {
          for (const path of serviceAccounts) await kubeRequest(p.kc, 'DELETE', path).catch(() => undefined);
          for (const ns of namespaces)
            await kubeRequest(p.kc, 'DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
        }
        await p.stopAll();
      })();
      return stopped;
    },
  };
  return handle;
}

function apiError(what: string, r: KubeResponse): Error {
  const msg = (r.body as { message?: string } | undefined)?.message ?? JSON.stringify(r.body);
  return new Error(`${what}: HTTP ${r.status}: ${msg}`);
}
