import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from './metrics';

describe('agent metrics', () => {
  it('counts passes by result, commands, and the applied generation', async () => {
    const m = createAgentMetrics();
    m.observe({ planned: true, ok: true, generation: 3, commands: 2, durationMs: 120, statusWritten: true });
    m.observe({ planned: true, ok: true, generation: 3, commands: 0, durationMs: 40, statusWritten: false });
    m.observe({
      planned: true,
      ok: false,
      generation: 4,
      commands: 0,
      durationMs: 10,
      statusWritten: true,
      error: 'x',
    });
    m.observe({ planned: false, ok: true, commands: 0, durationMs: 1, statusWritten: false });
    const text = await m.registry.metrics();
    expect(text).toContain('isthmus_agent_passes_total{result="applied"} 1');
    expect(text).toContain('isthmus_agent_passes_total{result="noop"} 1');
    expect(text).toContain('isthmus_agent_passes_total{result="failed"} 1');
    expect(text).toContain('isthmus_agent_passes_total{result="noplan"} 1');
    expect(text).toContain('isthmus_agent_commands_total 2');
    expect(text).toContain('isthmus_agent_applied_generation 3');
    expect(text).toContain('isthmus_agent_pass_duration_seconds_count 4');
  });
});
