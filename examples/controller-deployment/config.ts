// What `main.ts` runs, read from its arguments and environment (pure: argv and env in, a command out).

/** The controller's settings (a ReconcilerConfig plus where to serve metrics). */
export interface ControllerCommand {
  readonly kind: 'controller';
  readonly clusterID: string;
  readonly identity: string;
  readonly metricsPort: number;
  readonly globalCidr?: string;
  readonly globalRange?: string;
  readonly cableDriver?: 'vxlan' | 'wireguard';
  readonly wireGuardKeyFile?: string;
  readonly linkMtu?: number;
  /** The Lease's namespace and timing; unset: startController's defaults (isthmus-system, 15 s, 10 s, 2 s). */
  readonly leaseNamespace?: string;
  readonly leaseDurationSeconds?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly logLevel: LogLevel;
}

export interface AgentCommand {
  readonly kind: 'agent';
  readonly nodeName: string;
  readonly metricsPort: number;
  readonly resyncSeconds: number;
  /** Create WireGuard devices with wireguard-go instead of the kernel module. */
  readonly wireguardGo: boolean;
  readonly logLevel: LogLevel;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Command = ControllerCommand | AgentCommand;

/** A usage error: the message says which argument or variable is wrong. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: isthmus controller | agent

controller  env: ISTHMUS_CLUSTER_ID (required), POD_NAME (lease identity), METRICS_PORT (8080),
            ISTHMUS_GLOBAL_CIDR, ISTHMUS_GLOBAL_RANGE, ISTHMUS_CABLE_DRIVER (vxlan|wireguard),
            ISTHMUS_WIREGUARD_KEY_FILE, ISTHMUS_LINK_MTU, LOG_LEVEL (info),
            ISTHMUS_LEASE_NAMESPACE (isthmus-system), ISTHMUS_LEASE_DURATION_SECONDS (15),
            ISTHMUS_RENEW_DEADLINE_MS (10000), ISTHMUS_RETRY_PERIOD_MS (2000)
agent       env: NODE_NAME (required, from the downward API), METRICS_PORT (9464),
            ISTHMUS_RESYNC_SECONDS (60), ISTHMUS_WIREGUARD_GO (false), LOG_LEVEL (info)
`;

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(`${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max}`);
  return n;
}

function level(env: Env): LogLevel {
  const v = env.LOG_LEVEL ?? 'info';
  if (v !== 'debug' && v !== 'info' && v !== 'warn' && v !== 'error') {
    throw new UsageError(`LOG_LEVEL=${JSON.stringify(v)} must be debug, info, warn or error`);
  }
  return v;
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new UsageError(`${name} must be set`);
  return v.trim();
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: string };
}

/**
 * The Lease timing variables that are set, checked against each other as client-go's elector does:
 * the renew deadline below the lease duration, the retry period below the renew deadline (with the
 * defaults filling in the unset ones for that check).
 */
function leaseTiming(env: Env): {
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
} {
  const set = (name: string) => env[name] !== undefined && env[name] !== '';
  const durationS = int(env, 'ISTHMUS_LEASE_DURATION_SECONDS', 15, 1, 3600);
  const renewMs = int(env, 'ISTHMUS_RENEW_DEADLINE_MS', Math.min(10_000, durationS * 667), 1, 3_600_000);
  const retryMs = int(env, 'ISTHMUS_RETRY_PERIOD_MS', Math.min(2_000, durationS * 133), 1, 3_600_000);
  if (renewMs >= durationS * 1000)
    throw new UsageError(
      `ISTHMUS_RENEW_DEADLINE_MS=${renewMs} must be below the lease duration (${durationS * 1000} ms)`,
    );
  if (retryMs >= renewMs)
    throw new UsageError(
      `ISTHMUS_RETRY_PERIOD_MS=${retryMs} must be below the renew deadline (${renewMs} ms)`,
    );
  return {
    ...(set('ISTHMUS_LEASE_DURATION_SECONDS') ? { leaseDurationSeconds: durationS } : {}),
    ...(set('ISTHMUS_RENEW_DEADLINE_MS') ? { renewDeadlineMs: renewMs } : {}),
    ...(set('ISTHMUS_RETRY_PERIOD_MS') ? { retryPeriodMs: retryMs } : {}),
  };
}

/** The command named by `argv` (without node and the script), configured from `env`. */
export function parseCommand(argv: readonly string[], env: Env, hostname: string): Command {
  const [sub, ...rest] = argv;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (sub === 'controller') {
    const driver = env.ISTHMUS_CABLE_DRIVER;
    if (driver !== undefined && driver !== '' && driver !== 'vxlan' && driver !== 'wireguard') {
      throw new UsageError(`ISTHMUS_CABLE_DRIVER=${JSON.stringify(driver)} must be vxlan or wireguard`);
    }
    const lease = leaseTiming(env);
    return {
      kind: 'controller',
      clusterID: required(env, 'ISTHMUS_CLUSTER_ID'),
      identity: env.POD_NAME || hostname,
      metricsPort: int(env, 'METRICS_PORT', 8080, 1, 65535),
      ...optional('globalCidr', env.ISTHMUS_GLOBAL_CIDR),
      ...optional('globalRange', env.ISTHMUS_GLOBAL_RANGE),
      ...(driver === 'vxlan' || driver === 'wireguard' ? { cableDriver: driver } : {}),
      ...optional('wireGuardKeyFile', env.ISTHMUS_WIREGUARD_KEY_FILE),
      ...(env.ISTHMUS_LINK_MTU ? { linkMtu: int(env, 'ISTHMUS_LINK_MTU', 1500, 576, 65535) } : {}),
      ...optional('leaseNamespace', env.ISTHMUS_LEASE_NAMESPACE),
      ...lease,
      logLevel: level(env),
    };
  }
  if (sub === 'agent') {
    const wg = env.ISTHMUS_WIREGUARD_GO ?? 'false';
    if (wg !== 'true' && wg !== 'false')
      throw new UsageError(`ISTHMUS_WIREGUARD_GO=${JSON.stringify(wg)} must be true or false`);
    return {
      kind: 'agent',
      nodeName: required(env, 'NODE_NAME'),
      metricsPort: int(env, 'METRICS_PORT', 9464, 1, 65535),
      resyncSeconds: int(env, 'ISTHMUS_RESYNC_SECONDS', 60, 0, 86_400),
      wireguardGo: wg === 'true',
      logLevel: level(env),
    };
  }
  throw new UsageError(
    sub === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(sub)}`,
  );
}
