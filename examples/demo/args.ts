// The demo's command line: pure parsing into options, or a UsageError naming the offending value.
import type { ScenarioDriver, ScenarioMode } from '../../e2e/scenario';

export interface DemoOptions {
  readonly apply: boolean;
  readonly json: boolean;
  readonly help: boolean;
  readonly driver: ScenarioDriver;
  readonly mode: ScenarioMode;
}

export type UsageErrorCode = 'UNKNOWN_OPTION' | 'INVALID_VALUE' | 'MISSING_VALUE';

/** A bad command line: the demo prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  constructor(
    readonly code: UsageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DRIVERS: readonly ScenarioDriver[] = ['wireguard', 'vxlan'];
export const MODES: readonly ScenarioMode[] = ['gateway', 'p2p'];

export const USAGE = `usage: pnpm demo [--driver wireguard|vxlan] [--mode gateway|p2p] [--json] [--apply]

Plans two Kubernetes clusters with overlapping pod and service CIDRs joined by isthmus, and prints
the plan: global CIDRs and IPs, node and pod routes, NAT rules, tunnels (secrets redacted), MTU.

  --driver wireguard|vxlan  cable between the gateways (default wireguard)
  --mode gateway|p2p        traffic through gateways, or worker to worker (default gateway)
  --json                    one JSON document on stdout instead of tables
                            (through pnpm: pnpm -s demo --json, so pnpm's banner stays off stdout)
  --apply                   as root: build it in network namespaces, run the connectivity
                            matrix, the MTU check and a gateway failover, then tear it all down
  -h, --help                this text`;

function choose<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T {
  if (value === undefined || value === '')
    throw new UsageError('MISSING_VALUE', `--${name} needs a value: ${allowed.join(' or ')}`);
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(
      'INVALID_VALUE',
      `--${name} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`,
    );
  return value as T;
}

/** Parses the arguments after the script name; a bare `--` (pnpm passes it through) is ignored. */
export function parseArgs(argv: readonly string[]): DemoOptions {
  let apply = false;
  let json = false;
  let help = false;
  let driver: ScenarioDriver = 'wireguard';
  let mode: ScenarioMode = 'gateway';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] =
      arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--') continue;
    else if (flag === '--apply' && inline === undefined) apply = true;
    else if (flag === '--json' && inline === undefined) json = true;
    else if ((flag === '--help' || flag === '-h') && inline === undefined) help = true;
    else if (flag === '--driver') driver = choose('driver', value(), DRIVERS);
    else if (flag === '--mode') mode = choose('mode', value(), MODES);
    else throw new UsageError('UNKNOWN_OPTION', `unknown option ${JSON.stringify(arg)}`);
  }
  return { apply, json, help, driver, mode };
}
