// Runs the controller as a process, configured by environment variables (tests start it as a child
// process to SIGKILL it; the same entry serves a container). Logs JSON lines on stderr.
//   ISTHMUS_CLUSTER_ID (required)     this cluster's id in the cluster set
//   ISTHMUS_KUBECONFIG                kubeconfig file; default: in-cluster, then ~/.kube/config
//   ISTHMUS_IDENTITY / POD_NAME       lease identity; default <hostname>-<pid>
//   ISTHMUS_GLOBAL_CIDR               fixed global CIDR (default: allotted through ClusterSetMember)
//   ISTHMUS_LEASE_NAMESPACE           default isthmus-system
//   ISTHMUS_LEASE_DURATION_SECONDS, ISTHMUS_RENEW_DEADLINE_MS, ISTHMUS_RETRY_PERIOD_MS
//   ISTHMUS_METRICS_PORT              /metrics /healthz /readyz (0: any free port, logged); default 8080
//   ISTHMUS_LOG_LEVEL                 debug | info | warn | error
import { KubeConfig } from '@kubernetes/client-node';
import { startController } from '../controller';
import { createLogger, type LogLevel } from '../log';

const env = process.env;
const num = (name: string): number | undefined => {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
};

async function main(): Promise<void> {
  const log = createLogger({
    level: (env.ISTHMUS_LOG_LEVEL as LogLevel | undefined) ?? 'info',
    fields: { pid: process.pid },
  });
  const clusterID = env.ISTHMUS_CLUSTER_ID;
  if (!clusterID) throw new Error('ISTHMUS_CLUSTER_ID is required');
  const kc = new KubeConfig();
  if (env.ISTHMUS_KUBECONFIG) kc.loadFromFile(env.ISTHMUS_KUBECONFIG);
  else kc.loadFromDefault();
  const identity = env.ISTHMUS_IDENTITY ?? env.POD_NAME;
  const leaseDurationSeconds = num('ISTHMUS_LEASE_DURATION_SECONDS');
  const renewDeadlineMs = num('ISTHMUS_RENEW_DEADLINE_MS');
  const retryPeriodMs = num('ISTHMUS_RETRY_PERIOD_MS');
  const controller = await startController({
    kubeConfig: kc,
    config: { clusterID, ...(env.ISTHMUS_GLOBAL_CIDR ? { globalCidr: env.ISTHMUS_GLOBAL_CIDR } : {}) },
    ...(identity ? { identity } : {}),
    ...(env.ISTHMUS_LEASE_NAMESPACE ? { leaseNamespace: env.ISTHMUS_LEASE_NAMESPACE } : {}),
    ...(leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds }),
    ...(renewDeadlineMs === undefined ? {} : { renewDeadlineMs }),
    ...(retryPeriodMs === undefined ? {} : { retryPeriodMs }),
    metricsPort: num('ISTHMUS_METRICS_PORT') ?? 8080,
    logger: log,
  });
  // Always printed, whatever the level: supervisors and tests read the port from it.
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'listening', port: controller.metricsPort, identity: controller.identity, endpointSlices: controller.endpointSlices })}\n`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    controller.stop().then(
      () => process.exit(0),
      (e) => {
        log.error('shutdown failed', { error: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'controller failed to start', error: String(e?.message ?? e) })}\n`,
  );
  process.exit(1);
});
