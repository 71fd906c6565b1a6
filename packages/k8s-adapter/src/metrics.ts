import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The controller's Prometheus metrics, in a registry of their own (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  /** Addresses handed out, by kind: service, pod, egress, pool, cluster. */
  readonly allocations: Counter<'kind'>;
  /** Problems met, by reason (an Event reason such as PoolExhausted, or a write failure). */
  readonly errors: Counter<'reason'>;
  /** Seconds from a change seen to its writes done. */
  readonly reconcileDuration: Histogram<string>;
  /** Watches restarted after an error, a stall or a 410, by resource (the informer's path). */
  readonly watchRestarts: Counter<'resource'>;
  /** 1 while this replica holds the lease. */
  readonly leader: Gauge<string>;
  /** Addresses held by the leader's allocators, by kind: global (global IPs), egress (scopes), pool. */
  readonly allocated: Gauge<'kind'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    allocations: new Counter({
      name: 'isthmus_allocations_total',
      help: 'Addresses allocated by the controller, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'isthmus_errors_total',
      help: 'Problems reported by the controller, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'isthmus_reconcile_duration_seconds',
      help: 'Time from a change seen to its writes done',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: 'isthmus_watch_restarts_total',
      help: 'Watches restarted after an error, a stall or 410 Gone, by resource',
      labelNames: ['resource'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'isthmus_leader',
      help: '1 while this replica holds the leader lease',
      registers: [registry],
    }),
    allocated: new Gauge({
      name: 'isthmus_allocated',
      help: "Addresses held by the leader's allocators, by kind",
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

export interface HealthServerOptions {
  /** 0 picks a free port (see HealthServer.port). */
  readonly port: number;
  readonly host?: string;
  /** Whose registry /metrics serves (the controller's Metrics, or the agent's AgentMetrics). */
  readonly metrics: Pick<Metrics, 'registry'>;
  /** /readyz answers 200 while this is true, 503 otherwise. */
  readonly ready: () => boolean;
  /** /healthz answers 200 while this is true (default: always). */
  readonly healthy?: () => boolean;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** An HTTP server with /metrics (Prometheus text), /healthz and /readyz. */
export function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    if (path === '/healthz') return (opts.healthy?.() ?? true) ? text(200, 'ok\n') : text(503, 'unhealthy\n');
    if (path === '/readyz') return opts.ready() ? text(200, 'ok\n') : text(503, 'not ready\n');
    if (path === '/metrics') {
      opts.metrics.registry.metrics().then(
        (body) => text(200, body, opts.metrics.registry.contentType),
        () => text(500, 'metrics failed\n'),
      );
      return;
    }
    text(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
