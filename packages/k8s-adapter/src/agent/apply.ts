// Applying one NodePlan to a kernel: read, plan the pass, run only its commands, read again to check.
import { REDACTED } from '@isthmus/cable';
import type { Plan } from '@isthmus/route-planner';
import type { Logger } from '../log';
import type { NodePlanSpec } from '../resources';
import { AgentError } from './errors';
import { NAT_TABLE, nftFamily, tableFingerprint } from './nft';
import { type Observed, parseDumps, readDumps } from './observe';
import { type AgentCommand, type AgentMemory, type CableKey, type Pass, planPass } from './pass';
import type { CommandRunner } from './runner';

export interface ApplyOptions {
  readonly run: CommandRunner;
  readonly spec: NodePlanSpec;
  readonly memory?: AgentMemory;
  readonly cableKey?: CableKey;
  readonly createWireGuard?: (iface: string) => readonly string[];
  readonly logger?: Logger;
  /** Read the kernel again after changing it and fail with NOT_CONVERGED if a pass would still change something; default true. */
  readonly verify?: boolean;
}

export interface ApplyResult {
  /** The pass that was planned; `pass.commands` is what ran. */
  readonly pass: Pass;
  /** The commands that ran (equal to pass.commands; empty when the kernel already matched). */
  readonly ran: readonly AgentCommand[];
  /** Memory for the next pass. */
  readonly memory: AgentMemory;
}

/** What the pass must read, from the plan and from what earlier passes applied. */
function scopeOf(spec: NodePlanSpec, memory: AgentMemory | undefined) {
  const plans: Plan[] = [...(memory?.scopes ?? []), ...(spec.routes === undefined ? [] : [spec.routes])];
  return {
    mangle: plans.some((p) => (p.mangle?.length ?? 0) > 0),
    nat: spec.nat !== undefined,
    ...(spec.cable?.driver === 'wireguard' ? { wireguard: spec.cable.interface } : {}),
  };
}

/** Reads the kernel state a plan's pass compares against. */
export async function observeKernel(
  run: CommandRunner,
  spec: NodePlanSpec,
  memory?: AgentMemory,
): Promise<Observed> {
  return parseDumps(await readDumps(run, scopeOf(spec, memory)));
}

/** A command line for logs and errors: never its stdin. */
export function describeCommand(c: AgentCommand): string {
  return `${c.cmd} ${c.args.join(' ')}`;
}

function redact(text: string, c: AgentCommand): string {
  const secret = c.secret?.reveal();
  return secret === undefined || secret === '' ? text : text.split(secret).join(REDACTED);
}

async function runCommand(run: CommandRunner, c: AgentCommand): Promise<void> {
  const input = typeof c.input === 'string' ? c.input : c.input?.reveal();
  const r = await run(c.cmd, c.args, input === undefined ? {} : { input });
  if (r.code !== 0) {
    const out = redact((r.stderr.trim() || r.stdout.trim()).slice(0, 2000), c);
    throw new AgentError('COMMAND_FAILED', `${describeCommand(c)} exited ${r.code}: ${out}`, {
      kind: c.kind,
      cmd: c.cmd,
      args: c.args,
      exitCode: r.code,
    });
  }
}

/**
 * Brings the kernel to `spec`: reads it, plans a pass, runs the pass's commands (none when it already
 * matches) and, unless `verify` is false, reads again and checks that nothing is left to do.
 */
export async function applyNodePlan(opts: ApplyOptions): Promise<ApplyResult> {
  const { run, spec } = opts;
  const memory = opts.memory ?? {};
  const passInput = {
    spec,
    ...(opts.cableKey === undefined ? {} : { cableKey: opts.cableKey }),
    ...(opts.createWireGuard === undefined ? {} : { createWireGuard: opts.createWireGuard }),
  };
  const pass = planPass({ ...passInput, observed: await observeKernel(run, spec, memory), memory });
  if (pass.commands.length === 0) {
    return { pass, ran: [], memory: { ...memory, scopes: [pass.desired] } };
  }
  opts.logger?.info('applying node plan', {
    node: spec.node,
    reasons: pass.reasons,
    commands: pass.commands.map(describeCommand),
  });
  // Until the pass has succeeded, whatever it may have added is in scope for the next one.
  let next: AgentMemory = { ...memory, scopes: [...(memory.scopes ?? []), pass.desired] };
  try {
    for (const c of pass.commands) await runCommand(run, c);
  } catch (e) {
    throw Object.assign(e as Error, { memory: next });
  }
  next = { ...next, scopes: [pass.desired] };
  if (spec.nat !== undefined && pass.natScript !== null) {
    const fam = nftFamily(spec.nat.family);
    const listed = await run('nft', ['-j', 'list', 'table', fam, NAT_TABLE]);
    if (listed.code === 0) {
      next = {
        ...next,
        nat: {
          family: fam,
          script: pass.natScript,
          fingerprint: tableFingerprint(JSON.parse(listed.stdout)),
        },
      };
    }
  } else {
    const { nat: _dropped, ...rest } = next;
    next = rest;
  }
  if (opts.verify !== false) {
    const again = planPass({ ...passInput, observed: await observeKernel(run, spec, next), memory: next });
    if (again.commands.length > 0) {
      throw Object.assign(
        new AgentError(
          'NOT_CONVERGED',
          `after applying, the kernel still differs: ${again.reasons.join('; ')}`,
          {
            reasons: again.reasons,
            commands: again.commands.map(describeCommand),
          },
        ),
        { memory: next },
      );
    }
  }
  return { pass, ran: pass.commands, memory: next };
}

/** The memory an apply error carries (what the next pass must keep in scope), if any. */
export function memoryOf(e: unknown): AgentMemory | undefined {
  return (e as { memory?: AgentMemory } | null)?.memory;
}
