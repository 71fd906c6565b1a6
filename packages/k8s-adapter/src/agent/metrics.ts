// The node agent's Prometheus metrics, in a registry of their own (never prom-client's global one).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PassReport } from './agent';

export interface AgentMetrics {
  readonly registry: Registry;
  /** Passes by result: noop (nothing to change), applied, failed, noplan. */
  readonly passes: Counter<'result'>;
  /** Mutating commands run. */
  readonly commands: Counter<string>;
  /** Seconds per pass (read, apply, verify, status). */
  readonly passDuration: Histogram<string>;
  /** The NodePlan generation last applied in full. */
  readonly appliedGeneration: Gauge<string>;
  /** Feed one pass report into the metrics (pass it as the agent's onPass). */
  observe(report: PassReport): void;
}

export function createAgentMetrics(): AgentMetrics {
  const registry = new Registry();
  const passes = new Counter({
    name: 'isthmus_agent_passes_total',
    help: 'Node agent passes, by result (noop, applied, failed, noplan)',
    labelNames: ['result'],
    registers: [registry],
  });
  const commands = new Counter({
    name: 'isthmus_agent_commands_total',
    help: 'Mutating commands the node agent ran',
    registers: [registry],
  });
  const passDuration = new Histogram({
    name: 'isthmus_agent_pass_duration_seconds',
    help: 'Seconds per node agent pass (kernel read, apply, verify, status write)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const appliedGeneration = new Gauge({
    name: 'isthmus_agent_applied_generation',
    help: 'The NodePlan generation the agent last applied in full',
    registers: [registry],
  });
  return {
    registry,
    passes,
    commands,
    passDuration,
    appliedGeneration,
    observe(r) {
      const result = !r.planned ? 'noplan' : !r.ok ? 'failed' : r.commands > 0 ? 'applied' : 'noop';
      passes.inc({ result });
      if (r.commands > 0) commands.inc(r.commands);
      passDuration.observe(r.durationMs / 1000);
      if (r.ok && r.generation !== undefined) appliedGeneration.set(r.generation);
    },
  };
}
