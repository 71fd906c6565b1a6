import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, startHealthServer } from './metrics';

describe('metrics and health endpoints', () => {
  it('keeps its metrics in a registry of its own, never the global one', async () => {
    const m = createMetrics();
    m.allocations.inc({ kind: 'pod' }, 3);
    m.errors.inc({ reason: 'PoolExhausted' });
    m.watchRestarts.inc({ resource: 'pods' });
    m.reconcileDuration.observe(0.02);
    const text = await m.registry.metrics();
    expect(text).toContain('isthmus_allocations_total{kind="pod"} 3');
    expect(text).toContain('isthmus_errors_total{reason="PoolExhausted"} 1');
    expect(text).toContain('isthmus_watch_restarts_total{resource="pods"} 1');
    expect(text).toContain('isthmus_reconcile_duration_seconds_count 1');
    expect(await register.metrics()).not.toContain('isthmus_');
    // Two controllers in one process do not collide.
    expect(() => createMetrics()).not.toThrow();
  });

  it('serves /metrics, /healthz, and /readyz that follows the ready function', async () => {
    const m = createMetrics();
    let ready = false;
    const srv = await startHealthServer({ port: 0, host: '127.0.0.1', metrics: m, ready: () => ready });
    try {
      const get = async (p: string) => {
        const r = await fetch(`http://127.0.0.1:${srv.port}${p}`);
        return [r.status, await r.text()] as const;
      };
      expect(await get('/healthz')).toEqual([200, 'ok\n']);
      expect((await get('/readyz'))[0]).toBe(503);
      ready = true;
      expect(await get('/readyz')).toEqual([200, 'ok\n']);
      const [code, body] = await get('/metrics');
      expect(code).toBe(200);
      expect(body).toContain('# TYPE isthmus_allocations_total counter');
      expect((await get('/nope'))[0]).toBe(404);
    } finally {
      await srv.close();
    }
  });
});
