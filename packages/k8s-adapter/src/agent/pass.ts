// One agent pass, pure: the NodePlan's spec and what the kernel holds in, the commands that bring the
// kernel to the plan out. Nothing to change gives no commands; running the commands and planning again
// gives none.
import { Secret } from '@isthmus/cable';
import { renderNft } from '@isthmus/globalnet-ipam';
import {
  canonicalPlan,
  diffPlan,
  emptyPlan,
  isEmptyDiff,
  mergePlans,
  type Plan,
  type PlanDiff,
  RoutePlannerError,
  renderIpBatch,
  renderIptables,
  scopeToPlan,
} from '@isthmus/route-planner';
import type { NodeCableSpec, NodePlanSpec } from '../resources';
import { AgentError, show } from './errors';
import { NAT_TABLE, type NftFamily, nftFamily } from './nft';
import type { Observed } from './observe';
import { desiredWgState, renderSetconf, wgDrift } from './wireguard';

/** What a command does, for logs and counting. */
export type CommandKind =
  | 'cable-create'
  | 'cable-config'
  | 'cable-link'
  | 'routes'
  | 'mangle'
  | 'nat-delete'
  | 'nat';

/** One mutating command of a pass. */
export interface AgentCommand {
  readonly kind: CommandKind;
  readonly cmd: string;
  readonly args: readonly string[];
  /** Stdin; a Secret when it holds key material (it prints and serialises as "[redacted]"). */
  readonly input?: string | Secret;
  /** The key material in `input`, redacted from the command's output in errors. */
  readonly secret?: Secret;
}

/** What the agent remembers between passes (in memory: a restarted agent starts empty). */
export interface AgentMemory {
  /**
   * Route plans applied before (the last one in full, and any attempted since): what they named and the
   * new plan drops is deleted. One plan after a successful pass.
   */
  readonly scopes?: readonly Plan[];
  /** The NAT script loaded last and the table's handle-free listing right after loading it. */
  readonly nat?: { readonly family: NftFamily; readonly script: string; readonly fingerprint: string };
}

/** The node's WireGuard key, read by the shell from the plan's secretFile. */
export interface CableKey {
  readonly privateKey: Secret;
  /** Its public key: compared with the device's, so the private key is never read back from the kernel. */
  readonly publicKey: string;
}

export interface PassInput {
  readonly spec: NodePlanSpec;
  readonly observed: Observed;
  readonly memory?: AgentMemory;
  readonly cableKey?: CableKey;
  /** The argv that creates a WireGuard device; default `ip link add dev <if> type wireguard`. */
  readonly createWireGuard?: (iface: string) => readonly string[];
}

export interface Pass {
  /** The desired routes plan, canonical. */
  readonly desired: Plan;
  /** The routes part of the change (scoped to what the plan and the previous plan manage). */
  readonly routeDiff: PlanDiff;
  /** The NAT script the plan asks for, or null. */
  readonly natScript: string | null;
  /** In order; empty when the kernel already matches the plan. */
  readonly commands: readonly AgentCommand[];
  /** Why each part changes, for logs (no secrets). */
  readonly reasons: readonly string[];
}

/** The default WireGuard device creation (kernel module). */
export function ipLinkAddWireGuard(iface: string): readonly string[] {
  return ['ip', 'link', 'add', 'dev', iface, 'type', 'wireguard'];
}

/** The desired routes plan in canonical form; a malformed plan is INVALID_PLAN. */
export function desiredRoutes(spec: NodePlanSpec): Plan {
  try {
    return canonicalPlan(spec.routes ?? emptyPlan());
  } catch (e) {
    if (RoutePlannerError.isInstance(e))
      throw new AgentError('INVALID_PLAN', `spec.routes: ${e.message}`, { cause: e.code });
    throw new AgentError(
      'INVALID_PLAN',
      `spec.routes is not a route plan: ${show(spec.routes).slice(0, 80)}`,
    );
  }
}

/**
 * What the kernel holds of the things the desired plan or the previous one manages. The previous plan's
 * scope lets a pass delete what the plan no longer names (a VXLAN device, a neighbour); existing links
 * (never deleted) are scoped by the desired plan alone.
 */
export function scopeObserved(observed: Plan, desired: Plan, previous: readonly Plan[] = []): Plan {
  const now = scopeToPlan(observed, desired);
  if (previous.length === 0) return now;
  const before = previous.map((p) => scopeToPlan(observed, p));
  return mergePlans(
    now,
    ...before.map((b) => ({ ...b, devices: b.devices.filter((d) => d.kind !== 'link') })),
  );
}

function routeCommands(diff: PlanDiff): AgentCommand[] {
  let steps: ReturnType<typeof renderIpBatch>;
  try {
    steps = renderIpBatch(diff);
  } catch (e) {
    if (RoutePlannerError.isInstance(e))
      throw new AgentError('INVALID_PLAN', `spec.routes: ${e.message}`, { cause: e.code });
    throw e;
  }
  const out: AgentCommand[] = steps.map((s) => ({
    kind: 'routes',
    cmd: s.tool,
    args: s.args,
    input: s.input,
  }));
  const mangle = renderIptables(diff);
  if (mangle.ipv4 !== '')
    out.push({ kind: 'mangle', cmd: 'iptables-restore', args: ['--noflush'], input: mangle.ipv4 });
  if (mangle.ipv6 !== '')
    out.push({ kind: 'mangle', cmd: 'ip6tables-restore', args: ['--noflush'], input: mangle.ipv6 });
  return out;
}

/**
 * A VXLAN cable holds no secret: its device, VTEP address, FDB and neighbours are in spec.routes, and the
 * route pass applies them. The cable entry only names the device; check that the routes describe it.
 */
function checkVxlanCable(cable: NodeCableSpec, desired: Plan): void {
  const dev = desired.devices.find((d) => d.name === cable.interface);
  if (dev === undefined || dev.kind !== 'vxlan') {
    throw new AgentError(
      'INVALID_PLAN',
      `vxlan cable ${show(cable.interface)} has no vxlan device of that name in spec.routes`,
      { interface: cable.interface },
    );
  }
  if (dev.mtu !== cable.mtu) {
    throw new AgentError(
      'INVALID_PLAN',
      `vxlan cable ${show(cable.interface)}: cable.mtu ${cable.mtu} differs from the device's mtu ${dev.mtu} in spec.routes`,
      { interface: cable.interface, mtu: cable.mtu, deviceMtu: dev.mtu },
    );
  }
}

function cableCommands(input: PassInput, desired: Plan, reasons: string[]): AgentCommand[] {
  const cable = input.spec.cable;
  if (cable === undefined) return [];
  if (!Number.isInteger(cable.mtu) || cable.mtu < 576 || cable.mtu > 65535) {
    throw new AgentError(
      'INVALID_PLAN',
      `cable.mtu ${show(cable.mtu)} must be an integer from 576 to 65535`,
      {
        value: cable.mtu,
      },
    );
  }
  if (cable.driver === 'vxlan') {
    checkVxlanCable(cable, desired);
    return [];
  }
  if (cable.driver !== 'wireguard') {
    // libreswan needs IPsec ESP (xfrm) in the kernel and a PSK: neither is applied by this agent.
    throw new AgentError(
      'UNSUPPORTED_CABLE',
      `cable driver ${show(cable.driver)} is not applied by the agent (it applies wireguard and vxlan cables; ${cable.driver === 'libreswan' ? 'libreswan needs IPsec ESP and a pluto daemon' : 'unknown driver'})`,
      { driver: cable.driver },
    );
  }
  if (input.cableKey === undefined) {
    throw new AgentError(
      'INVALID_ARGUMENT',
      `cable ${show(cable.interface)}: the node's private key was not given`,
      {
        interface: cable.interface,
      },
    );
  }
  const out: AgentCommand[] = [];
  const link = input.observed.links.get(cable.interface);
  if (link === undefined) {
    const argv = (input.createWireGuard ?? ipLinkAddWireGuard)(cable.interface);
    out.push({ kind: 'cable-create', cmd: argv[0]!, args: argv.slice(1) });
    reasons.push(`cable ${cable.interface}: device missing`);
  }
  const want = desiredWgState(cable, input.cableKey.publicKey);
  const drift = wgDrift(want, link === undefined ? null : input.observed.wireguard);
  if (drift.length > 0) {
    out.push({
      kind: 'cable-config',
      // wg opens its config file by path, and a spawned process's stdin is a socket, which /dev/stdin
      // cannot be opened as: cat turns it into a pipe, so the key never touches a disk.
      cmd: 'sh',
      args: ['-c', 'cat | wg setconf "$1" /dev/stdin', 'sh', cable.interface],
      input: new Secret(renderSetconf(cable, input.cableKey.privateKey)),
      secret: input.cableKey.privateKey,
    });
    if (link !== undefined) reasons.push(`cable ${cable.interface}: ${drift.join(', ')}`);
  }
  if (link === undefined || link.mtu !== cable.mtu || !link.up) {
    out.push({
      kind: 'cable-link',
      cmd: 'ip',
      args: ['link', 'set', 'dev', cable.interface, 'mtu', String(cable.mtu), 'up'],
    });
    if (link !== undefined)
      reasons.push(`cable ${cable.interface}: mtu ${link.mtu}${link.up ? '' : ' down'}`);
  }
  return out;
}

function natCommands(input: PassInput, script: string | null, reasons: string[]): AgentCommand[] {
  const { observed, memory } = input;
  const want = input.spec.nat === undefined ? null : nftFamily(input.spec.nat.family);
  const out: AgentCommand[] = [];
  for (const fam of observed.natTables) {
    if (fam === want) continue;
    out.push({ kind: 'nat-delete', cmd: 'nft', args: ['delete', 'table', fam, NAT_TABLE] });
    reasons.push(`nat: table ${fam} ${NAT_TABLE} not in the plan`);
  }
  if (want === null || script === null) return out;
  const loaded = memory?.nat;
  const current = observed.natFingerprints[want];
  const same =
    loaded !== undefined &&
    loaded.family === want &&
    loaded.script === script &&
    current === loaded.fingerprint;
  if (!same) {
    out.push({ kind: 'nat', cmd: 'nft', args: ['-f', '-'], input: script });
    reasons.push(
      current === undefined
        ? `nat: table ${want} ${NAT_TABLE} missing`
        : loaded?.script !== script
          ? 'nat: plan changed (or not loaded by this agent)'
          : 'nat: table changed since it was loaded',
    );
  }
  return out;
}

function natScriptOf(spec: NodePlanSpec): string | null {
  if (spec.nat === undefined) return null;
  try {
    return renderNft(spec.nat);
  } catch (e) {
    throw new AgentError('INVALID_PLAN', `spec.nat: ${(e as Error).message}`, {
      cause: (e as { code?: unknown }).code,
    });
  }
}

/** Plans one pass. Throws AgentError for a plan it cannot apply; changes nothing. */
export function planPass(input: PassInput): Pass {
  const desired = desiredRoutes(input.spec);
  const natScript = natScriptOf(input.spec);
  const reasons: string[] = [];
  const cable = cableCommands(input, desired, reasons);
  const routeDiff = diffPlan(scopeObserved(input.observed.plan, desired, input.memory?.scopes), desired);
  if (!isEmptyDiff(routeDiff)) reasons.push('routes differ');
  const commands = [...cable, ...routeCommands(routeDiff), ...natCommands(input, natScript, reasons)];
  return { desired, routeDiff, natScript, commands, reasons };
}
