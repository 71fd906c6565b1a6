// The one entry point of the isthmus image: `main.js controller` (the Deployment) or `main.js agent`
// (the DaemonSet). Configuration comes from the environment; see config.ts and README.md.
import { hostname } from 'node:os';
import {
  createAgentMetrics,
  createLogger,
  type Logger,
  type PassReport,
  startAgent,
  startController,
  startHealthServer,
} from '@isthmus/k8s-adapter';
import { KubeConfig } from '@kubernetes/client-node';
import { type AgentCommand, type ControllerCommand, parseCommand, USAGE, UsageError } from './config';

/** In a pod: the ServiceAccount's in-cluster config; elsewhere $KUBECONFIG or ~/.kube/config. */
function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

function onSignal(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal: sig });
      stop().then(
        () => process.exit(0),
        (e) => {
          log.error('stop failed', { error: e });
          process.exit(1);
        },
      );
    });
  }
}

async function runController(cmd: ControllerCommand): Promise<void> {
  const log = createLogger({ level: cmd.logLevel, fields: { component: 'controller' } });
  const {
    kind: _k,
    identity,
    metricsPort,
    logLevel: _l,
    leaseNamespace,
    leaseDurationSeconds,
    renewDeadlineMs,
    retryPeriodMs,
    ...config
  } = cmd;
  const controller = await startController({
    kubeConfig: kubeConfig(),
    config,
    identity,
    metricsPort,
    logger: log,
    ...(leaseNamespace === undefined ? {} : { leaseNamespace }),
    ...(leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds }),
    ...(renewDeadlineMs === undefined ? {} : { renewDeadlineMs }),
    ...(retryPeriodMs === undefined ? {} : { retryPeriodMs }),
  });
  log.info('controller started', { identity, metricsPort: controller.metricsPort });
  onSignal(log, () => controller.stop());
}

async function runAgent(cmd: AgentCommand): Promise<void> {
  const log = createLogger({ level: cmd.logLevel, fields: { component: 'agent' } });
  const metrics = createAgentMetrics();
  const agent = await startAgent({
    kubeConfig: kubeConfig(),
    nodeName: cmd.nodeName,
    logger: log,
    resyncMs: cmd.resyncSeconds * 1000,
    onPass: (r: PassReport) => metrics.observe(r),
    ...(cmd.wireguardGo ? { createWireGuard: (iface: string) => ['wireguard-go', iface] } : {}),
  });
  // /healthz: the NodePlan watch works (startAgent's `healthy`); /readyz: the last pass succeeded.
  const server = await startHealthServer({
    port: cmd.metricsPort,
    metrics,
    ready: () => agent.last?.ok === true,
    healthy: () => agent.healthy,
  });
  log.info('agent started', { node: cmd.nodeName, metricsPort: cmd.metricsPort });
  onSignal(log, async () => {
    await server.close();
    await agent.stop();
  });
}

async function main(): Promise<void> {
  let cmd: ReturnType<typeof parseCommand>;
  try {
    cmd = parseCommand(process.argv.slice(2), process.env, hostname());
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (cmd.kind === 'controller') await runController(cmd);
  else await runAgent(cmd);
}

main().catch((e) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'fatal', error: e instanceof Error ? e.message : String(e) })}\n`,
  );
  process.exit(1);
});
