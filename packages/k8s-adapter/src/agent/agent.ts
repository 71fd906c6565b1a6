// The node agent: watches its own NodePlan, applies it to the kernel pass by pass (one at a time), and
// reports the applied generation or the error in the NodePlan's status.
import type { KubeConfig } from '@kubernetes/client-node';
import { createEventRecorder, type EventRecorder } from '../kube/events';
import { createInformer, type Informer } from '../kube/informer';
import { updateStatus } from '../kube/write';
import { type Logger, silentLogger } from '../log';
import { API_VERSION, GROUP, type NodePlan, VERSION } from '../resources';
import { applyNodePlan, memoryOf } from './apply';
import { AgentError } from './errors';
import type { AgentMemory } from './pass';
import { type CommandRunner, createExecRunner } from './runner';
import { type ReadSecretFile, readCableKey } from './secret';
import { nextStatus, type PassOutcome } from './status';

export const NODEPLANS_PATH = `/apis/${GROUP}/${VERSION}/nodeplans`;

export interface AgentOptions {
  readonly kubeConfig: KubeConfig;
  /** The node this agent runs on; its NodePlan has the same name. */
  readonly nodeName: string;
  /** How commands run; default: spawned on the host, or inside `netns` when given. */
  readonly run?: CommandRunner;
  /** Run every command inside this named network namespace (tests; ignored when `run` is given). */
  readonly netns?: string;
  readonly logger?: Logger;
  /** How the cable key file is read; default fs.readFile. */
  readonly readSecret?: ReadSecretFile;
  /** The argv that creates a WireGuard device (default `ip link add dev <if> type wireguard`; `wireguard-go <if>` without the module). */
  readonly createWireGuard?: (iface: string) => readonly string[];
  /** Milliseconds between passes that catch drift (someone changed the kernel); default 60 s, 0 never. */
  readonly resyncMs?: number;
  /** First retry delay after a failed pass (doubling up to resyncMs or 60 s); default 1 s. */
  readonly retryMs?: number;
  /** Passed to the NodePlan informer. */
  readonly stallTimeoutMs?: number;
  /** `healthy` turns false once the NodePlan informer has had no working list or watch for this long; default 2 minutes. */
  readonly unhealthyAfterMs?: number;
  /** Record Events on the NodePlan (needs `events: create, patch`); default true. */
  readonly events?: boolean;
  readonly now?: () => Date;
  /** Called after every pass (metrics, tests). */
  readonly onPass?: (report: PassReport) => void;
}

/** What one pass did. */
export interface PassReport {
  /** False when there was no NodePlan for this node. */
  readonly planned: boolean;
  readonly generation?: number;
  readonly ok: boolean;
  /** Mutating commands run (0: the kernel already matched). */
  readonly commands: number;
  readonly durationMs: number;
  readonly error?: string;
  readonly errorCode?: string;
  /** Whether the status was written (false when it already said this). */
  readonly statusWritten: boolean;
}

export interface Agent {
  /** Resolves with the first pass that starts after this call. */
  sync(): Promise<PassReport>;
  /** Stops watching and waits for a running pass. */
  stop(): Promise<void>;
  readonly passes: number;
  readonly last: PassReport | undefined;
  /** Not stopped, and its NodePlan watch not failing for longer than unhealthyAfterMs (for /healthz). */
  readonly healthy: boolean;
}

/** "COMMAND_FAILED" -> "CommandFailed" (condition reasons are CamelCase). */
function reasonOf(code: string): string {
  return code
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Starts the agent; resolves once its NodePlan informer has listed (the first pass is under way). */
export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const kc = opts.kubeConfig;
  const node = opts.nodeName;
  if (typeof node !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(node) || node.length > 253) {
    throw new AgentError(
      'INVALID_ARGUMENT',
      `nodeName ${JSON.stringify(node)} is not a Kubernetes object name`,
      {
        value: node,
      },
    );
  }
  const log = (opts.logger ?? silentLogger).child({ component: 'agent', node });
  const run = opts.run ?? createExecRunner(opts.netns === undefined ? {} : { netns: opts.netns });
  const now = opts.now ?? (() => new Date());
  const resyncMs = opts.resyncMs ?? 60_000;
  const retryMs = opts.retryMs ?? 1000;
  const unhealthyAfterMs = opts.unhealthyAfterMs ?? 120_000;
  const recorder: EventRecorder | undefined =
    opts.events === false ? undefined : createEventRecorder(kc, 'isthmus-agent', log);
  const informer: Informer<NodePlan> = createInformer<NodePlan>({
    kubeConfig: kc,
    path: NODEPLANS_PATH,
    fieldSelector: `metadata.name=${node}`,
    logger: log,
    ...(opts.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: opts.stallTimeoutMs }),
  });

  let memory: AgentMemory = {};
  let passes = 0;
  let last: PassReport | undefined;
  let dirty = false;
  let running: Promise<void> | undefined;
  let stopped = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let waiting: Array<(r: PassReport) => void> = [];

  async function writeStatus(outcome: PassOutcome): Promise<boolean> {
    const path = `${NODEPLANS_PATH}/${encodeURIComponent(node)}`;
    const at = now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    const written = await updateStatus<NodePlan>(kc, path, (cur) => {
      const status = nextStatus(cur.status, outcome, at);
      return status === undefined ? undefined : { ...cur, status };
    });
    return written !== undefined;
  }

  async function pass(): Promise<PassReport> {
    const started = performance.now();
    const plan = informer.get(node);
    if (plan === undefined) {
      return {
        planned: false,
        ok: true,
        commands: 0,
        durationMs: performance.now() - started,
        statusWritten: false,
      };
    }
    const generation = plan.metadata.generation ?? 0;
    let outcome: PassOutcome;
    let commands = 0;
    let code: string | undefined;
    try {
      const cable = plan.spec.cable;
      let cableKey: Awaited<ReturnType<typeof readCableKey>> | undefined;
      if (cable?.driver === 'wireguard') {
        if (cable.secretFile === undefined) {
          throw new AgentError(
            'INVALID_PLAN',
            `cable ${JSON.stringify(cable.interface)} names no secretFile`,
            {
              interface: cable.interface,
            },
          );
        }
        cableKey = await readCableKey(cable.secretFile, opts.readSecret);
      }
      const result = await applyNodePlan({
        run,
        spec: plan.spec,
        memory,
        logger: log,
        ...(cableKey === undefined ? {} : { cableKey }),
        ...(opts.createWireGuard === undefined ? {} : { createWireGuard: opts.createWireGuard }),
      });
      memory = result.memory;
      commands = result.ran.length;
      outcome = { ok: true, generation };
    } catch (e) {
      memory = memoryOf(e) ?? memory;
      code = AgentError.isInstance(e) ? e.code : 'INTERNAL';
      const message = e instanceof Error ? e.message : String(e);
      outcome = { ok: false, generation, error: message, reason: reasonOf(code) };
    }
    const ref = {
      kind: 'NodePlan',
      apiVersion: API_VERSION,
      name: node,
      ...(plan.metadata.uid ? { uid: plan.metadata.uid } : {}),
    };
    if (outcome.ok && commands > 0) {
      log.info('node plan applied', { generation, commands });
      void recorder?.record(
        ref,
        'Normal',
        'Applied',
        `applied generation ${generation} (${commands} commands)`,
      );
    } else if (!outcome.ok) {
      log.error('node plan not applied', { generation, error: outcome.error, code });
      void recorder?.record(ref, 'Warning', outcome.reason, outcome.error);
    }
    let statusWritten = false;
    try {
      statusWritten = await writeStatus(outcome);
    } catch (e) {
      log.error('status update failed', { generation, error: e });
      if (outcome.ok)
        outcome = {
          ok: false,
          generation,
          error: `status update failed: ${(e as Error).message}`,
          reason: 'StatusUpdateFailed',
        };
    }
    return {
      planned: true,
      generation,
      ok: outcome.ok,
      commands,
      durationMs: performance.now() - started,
      statusWritten,
      ...(outcome.ok ? {} : { error: outcome.error, ...(code === undefined ? {} : { errorCode: code }) }),
    };
  }

  function scheduleRetry(): void {
    if (stopped || retryTimer !== undefined) return;
    const cap = resyncMs > 0 ? Math.min(resyncMs, 60_000) : 60_000;
    const delay = Math.min(cap, retryMs * 2 ** Math.min(failures - 1, 16));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      trigger();
    }, delay);
    retryTimer.unref?.();
  }

  async function loop(): Promise<void> {
    while (dirty && !stopped) {
      dirty = false;
      const mine = waiting;
      waiting = [];
      let report: PassReport;
      try {
        report = await pass();
      } catch (e) {
        log.error('pass crashed', { error: e });
        report = {
          planned: true,
          ok: false,
          commands: 0,
          durationMs: 0,
          statusWritten: false,
          error: String(e),
        };
      }
      passes++;
      last = report;
      failures = report.ok ? 0 : failures + 1;
      if (!report.ok) scheduleRetry();
      opts.onPass?.(report);
      for (const w of mine) w(report);
    }
    running = undefined;
  }

  function trigger(): void {
    if (stopped) return;
    dirty = true;
    running ??= loop();
  }

  informer.on('add', () => trigger());
  informer.on('update', (obj, old) => {
    // Our own status writes come back as updates of the same generation: no pass for those.
    if (obj.metadata.generation !== old?.metadata.generation) trigger();
  });
  informer.on('delete', () => log.info('node plan deleted; the kernel is left as it is'));
  await informer.start();
  trigger();
  const resync = resyncMs > 0 ? setInterval(trigger, resyncMs) : undefined;
  resync?.unref?.();

  return {
    sync() {
      return new Promise<PassReport>((resolve, reject) => {
        if (stopped) return reject(new AgentError('INVALID_ARGUMENT', 'the agent is stopped'));
        waiting.push(resolve);
        trigger();
      });
    },
    async stop() {
      stopped = true;
      if (resync) clearInterval(resync);
      if (retryTimer) clearTimeout(retryTimer);
      informer.stop();
      await running;
      const left = waiting;
      waiting = [];
      const report: PassReport = {
        planned: false,
        ok: false,
        commands: 0,
        durationMs: 0,
        statusWritten: false,
        error: 'the agent stopped',
      };
      for (const w of left) w(report);
    },
    get passes() {
      return passes;
    },
    get last() {
      return last;
    },
    get healthy() {
      const since = informer.failingSince;
      return !stopped && (since === 0 || Date.now() - since < unhealthyAfterMs);
    },
  };
}
