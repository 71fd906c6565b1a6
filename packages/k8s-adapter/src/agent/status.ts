// The NodePlan status the agent reports, pure: from the current status and the outcome of a pass.
import type { Condition, NodePlanStatus } from '../resources';

/** The condition the agent owns on a NodePlan. */
export const APPLIED_CONDITION = 'Applied';

/** How a pass over one generation of a NodePlan ended. */
export type PassOutcome =
  | { readonly ok: true; readonly generation: number }
  | { readonly ok: false; readonly generation: number; readonly error: string; readonly reason: string };

/** Longest error message written to the status (the API server limits condition messages to 32 KiB). */
const MAX_MESSAGE = 4000;

/**
 * The status after `outcome`, or undefined when the current one already says it (so a pass that finds
 * nothing to do writes nothing). A success sets appliedGeneration and clears the error; a failure keeps
 * the last applied generation and records the error. `now` is an RFC 3339 time for a condition that flips.
 */
export function nextStatus(
  current: NodePlanStatus | undefined,
  outcome: PassOutcome,
  now: string,
): NodePlanStatus | undefined {
  const others = (current?.conditions ?? []).filter((c) => c.type !== APPLIED_CONDITION);
  const before = current?.conditions?.find((c) => c.type === APPLIED_CONDITION);
  const error = outcome.ok ? undefined : outcome.error.slice(0, MAX_MESSAGE);
  const status: Condition['status'] = outcome.ok ? 'True' : 'False';
  const reason = outcome.ok ? 'Applied' : outcome.reason;
  const message = outcome.ok ? `generation ${outcome.generation} is applied` : (error as string);
  const condition: Condition = {
    type: APPLIED_CONDITION,
    status,
    reason,
    message,
    lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : now,
    observedGeneration: outcome.generation,
  };
  const appliedGeneration = outcome.ok ? outcome.generation : current?.appliedGeneration;
  const next: NodePlanStatus = {
    ...(appliedGeneration === undefined ? {} : { appliedGeneration }),
    ...(error === undefined ? {} : { error }),
    conditions: [...others, condition],
  };
  const same =
    current?.appliedGeneration === next.appliedGeneration &&
    current?.error === next.error &&
    before !== undefined &&
    before.status === condition.status &&
    before.reason === condition.reason &&
    before.message === condition.message &&
    before.observedGeneration === condition.observedGeneration;
  return same ? undefined : next;
}
