// --apply: builds the planned scenario in network namespaces (e2e/kernel.ts on a testing/netns.ts Lab),
// measures it, and tears it down whatever happens. The kernel modules load only here, so the plan-only
// demo starts fast.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltScenario, FailoverResult, MatrixRow, MtuResult } from '../../e2e/kernel';
import { planScenario, type Scenario, type ScenarioDriver, type ScenarioMode } from '../../e2e/scenario';
import { mtuPassed } from './format';
import type { ApplyResults } from './json';
import type { ProgressLine } from './progress';

export interface ApplySession {
  /** The scenario with freshly generated keys and machine-unique WireGuard names. */
  readonly scenario: Scenario;
  /** The lab's namespace prefix (`isx-<pid>-demo-xxxx`). */
  readonly labId: string;
  /** Builds, checks and tears down; never rejects (a failure lands in `error`). */
  run(): Promise<ApplyResults>;
  /** Ends every process and namespace of the run; safe to call again and concurrently (signals). */
  teardown(): Promise<void>;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function createApplySession(
  options: { readonly driver: ScenarioDriver; readonly mode: ScenarioMode },
  progress: ProgressLine,
): Promise<ApplySession> {
  const [{ Lab, existingNamespaces }, kernel] = await Promise.all([
    import('../../testing/netns'),
    import('../../e2e/kernel'),
  ]);
  const scenario = planScenario({
    ...options,
    keys: kernel.generateScenarioKeys(),
    wgNames: kernel.uniqueWgNames(),
  });
  const lab = new Lab('demo');
  // Private directory for everything the run writes (wg config files hold private keys, mode 0600).
  const workDir = mkdtempSync(join(tmpdir(), 'isthmus-demo-'));
  let built: BuiltScenario | null = null;
  let tornDown: Promise<void> | null = null;

  const sweep = () => {
    // Namespaces added while cleanup ran (a signal in the middle of a build step).
    for (const ns of existingNamespaces(lab.id)) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .stdout.split(/\s+/)
        .filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    for (const name of Object.values(scenario.wgNames))
      rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
    rmSync(workDir, { recursive: true, force: true });
  };

  const teardown = () => {
    tornDown ??= (async () => {
      try {
        if (built !== null) await kernel.teardown(built);
        else await lab.cleanup();
      } finally {
        sweep();
      }
    })();
    return tornDown;
  };

  const run = async (): Promise<ApplyResults> => {
    const timings: Record<string, number> = {};
    const timed = async <T>(phase: string, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        timings[phase] = Math.round(performance.now() - t0) / 1000;
      }
    };
    let matrix: MatrixRow[] = [];
    let mtu: MtuResult | null = null;
    let failover: FailoverResult | null = null;
    let error: string | null = null;
    try {
      built = await timed('build', () => {
        // buildScenario makes its secret directory synchronously under tmpdir(): point that into ours,
        // so even a build cut short by a signal leaves no key file behind.
        const previous = process.env.TMPDIR;
        process.env.TMPDIR = workDir;
        try {
          return kernel.buildScenario(lab, scenario, (step) => progress.step(step));
        } finally {
          if (previous === undefined) delete process.env.TMPDIR;
          else process.env.TMPDIR = previous;
        }
      });
      const b = built;
      progress.step(`connectivity matrix (${scenario.expectations.length} checks)`);
      matrix = await timed('matrix', () => kernel.connectivityMatrix(b));
      progress.step('MTU check (don’t-fragment pings)');
      mtu = await timed('mtu', () => kernel.measureMtu(b));
      if (scenario.mode === 'gateway') {
        progress.step('failover: cutting east’s active gateway');
        failover = await timed('failover', () => kernel.failover(b, 'east'));
      }
    } catch (e) {
      error = errorText(e);
    } finally {
      progress.step('tearing down');
      await timed('teardown', teardown).catch((e) => {
        error ??= `teardown: ${errorText(e)}`;
      });
      progress.clear();
    }
    const mtuOk = mtu !== null && mtuPassed(mtu);
    const passed =
      error === null &&
      matrix.length === scenario.expectations.length &&
      matrix.every((r) => r.pass) &&
      mtuOk &&
      (scenario.mode !== 'gateway' || failover !== null);
    let failoverSummary: ApplyResults['failover'] = null;
    if (failover !== null) {
      const { change: _change, ...rest } = failover;
      failoverSummary = rest;
    }
    return {
      passed,
      lab: lab.id,
      matrix,
      mtu: mtu === null ? null : { ...mtu, passed: mtuOk },
      failover: failoverSummary,
      timings,
      error,
    };
  };

  return { scenario, labId: lab.id, run, teardown };
}
