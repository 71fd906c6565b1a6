import { RoutePlannerError, show } from './errors';
import { mergePlans, type Plan } from './plan';

/**
 * The node namespace's plan for every pod on a node: the union of their `planPodRoutes(...).host` plans.
 * Each pod's host plan claims the shared rule `from all lookup <hostRuleTable>` and that table, so an agent
 * diffs the kernel against this union: against one pod's host plan it would delete the other pods' routes,
 * and one pod's host plan diffed against nothing deletes the shared rule. Pods that claim one entry
 * differently (one pod IP on two veths, two hostRuleTables at one priority) are DUPLICATE_ENTRY.
 */
export function planNodeHost(podHostPlans: readonly Plan[]): Plan {
  if (!Array.isArray(podHostPlans)) {
    throw new RoutePlannerError(
      'INVALID_ARGUMENT',
      `podHostPlans must be a list of host plans, got ${show(podHostPlans)}`,
      { field: 'podHostPlans' },
    );
  }
  return mergePlans(...podHostPlans);
}
