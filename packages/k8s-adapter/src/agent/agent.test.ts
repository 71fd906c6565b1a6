// The agent's `healthy` (its /healthz in the example image) against a scripted API server.
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, startHealthServer } from '../metrics';
import { until } from '../test-support/kube-setup';
import { scriptedApi } from '../test-support/scripted-api';
import { NODEPLANS_PATH, startAgent } from './agent';
import type { CommandRunner } from './runner';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const noKernel: CommandRunner = async () => ({ code: 1, stdout: '', stderr: 'no kernel in this test' });

describe('startAgent healthy', () => {
  it('turns false once the NodePlan watch has been broken for unhealthyAfterMs, true again when it works, false after stop', async () => {
    const api = await scriptedApi();
    cleanup.push(api.close);
    const agent = await startAgent({
      kubeConfig: api.kc,
      nodeName: 'node-1',
      run: noKernel,
      events: false,
      resyncMs: 0,
      unhealthyAfterMs: 500,
    });
    cleanup.push(() => agent.stop());
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics(),
      ready: () => true,
      healthy: () => agent.healthy,
    });
    cleanup.push(() => server.close());
    const healthz = async () => (await fetch(`http://127.0.0.1:${server.port}/healthz`)).status;
    await until('watching', () => api.open(NODEPLANS_PATH) > 0, 10_000);
    expect(agent.healthy).toBe(true);
    expect(await healthz()).toBe(200);

    api.breakPath(NODEPLANS_PATH);
    const brokeAt = Date.now();
    await until('unhealthy', () => !agent.healthy, 10_000, 20);
    expect(Date.now() - brokeAt).toBeGreaterThanOrEqual(450);
    expect(await healthz()).toBe(503);

    api.fix(NODEPLANS_PATH);
    await until('healthy again', () => agent.healthy, 20_000, 20);
    expect(await healthz()).toBe(200);

    await agent.stop();
    expect(agent.healthy).toBe(false);
  }, 40_000);
});
