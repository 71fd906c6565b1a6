// The controller's /healthz against a scripted API server: it fails while a watch stays broken past the
// bound, recovers when the watch works again, and the controller is unhealthy once stopped.
import { afterEach, describe, expect, it } from 'vitest';
import { type Controller, startController } from './controller';
import { until } from './test-support/kube-setup';
import { scriptedApi } from './test-support/scripted-api';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function healthz(c: Controller): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${c.metricsPort}/healthz`);
  await r.text();
  return r.status;
}

describe('startController /healthz', () => {
  it('fails once an informer has had no working watch for unhealthyAfterMs, recovers when the watch works again, and is false after stop', async () => {
    const api = await scriptedApi();
    cleanup.push(api.close);
    const controller = await startController({
      kubeConfig: api.kc,
      config: { clusterID: 'east' },
      identity: 'health',
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      unhealthyAfterMs: 500,
    });
    cleanup.push(() => controller.stop());
    await until('ready', () => controller.ready, 10_000);
    await until('nodes watched', () => api.open('/api/v1/nodes') > 0, 10_000);
    expect(await healthz(controller)).toBe(200);

    api.breakPath('/api/v1/nodes');
    const brokeAt = Date.now();
    await until('unhealthy', async () => (await healthz(controller)) === 503, 10_000, 50);
    // Not at the first failure: only once the bound has passed.
    expect(Date.now() - brokeAt).toBeGreaterThanOrEqual(450);
    expect(controller.healthy).toBe(false);
    expect(controller.ready).toBe(true); // readiness is about the cache, which is still there

    api.fix('/api/v1/nodes');
    await until('healthy again', async () => (await healthz(controller)) === 200, 20_000, 50);
    expect(controller.healthy).toBe(true);

    await controller.stop();
    expect(controller.healthy).toBe(false);
  }, 40_000);
});
