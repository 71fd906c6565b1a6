// The controller as a child process (controller-main.ts under tsx), so tests can SIGKILL it.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./controller-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ControllerProcess {
  readonly pid: number;
  readonly identity: string;
  /** JSON log lines so far. */
  readonly lines: string[];
  /** Resolves with the metrics port once the controller logged it. */
  readonly port: Promise<number>;
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** GET a path of its metrics server. */
  get(path: string): Promise<{ status: number; text: string }>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function startControllerProcess(identity: string, env: Record<string, string>): ControllerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: ROOT,
    env: { ...process.env, ISTHMUS_IDENTITY: identity, ISTHMUS_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('cannot start the controller process');
  running.add(child);
  const lines: string[] = [];
  let buf = '';
  let gotPort: (p: number) => void = () => {};
  let failPort: (e: Error) => void = () => {};
  const port = new Promise<number>((res, rej) => {
    gotPort = res;
    failPort = rej;
  });
  port.catch(() => undefined);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      lines.push(line);
      try {
        const j = JSON.parse(line) as { msg?: string; port?: number };
        if (j.msg === 'listening' && typeof j.port === 'number') gotPort(j.port);
      } catch {
        // not JSON (a stack trace): kept in lines for the failure message
      }
    }
  });
  const exited = new Promise<number | null>((res) => {
    child.once('exit', (code) => {
      running.delete(child);
      failPort(
        new Error(
          `controller ${identity} exited (${code}) before listening:\n${lines.slice(-20).join('\n')}`,
        ),
      );
      res(code);
    });
  });
  return {
    pid: child.pid,
    identity,
    lines,
    port,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async get(path) {
      const p = await Promise.race([
        port,
        new Promise<never>((_, rej) =>
          setTimeout(() => rej(new Error(`controller ${identity}: no port yet`)), 5_000).unref(),
        ),
      ]);
      const r = await fetch(`http://127.0.0.1:${p}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: r.status, text: await r.text() };
    },
  };
}

/** A gauge or counter value from Prometheus text, e.g. metric(text, 'isthmus_allocated{kind="global"}'). */
export function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
