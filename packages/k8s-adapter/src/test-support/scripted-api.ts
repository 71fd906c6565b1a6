// A scripted API server for the health tests (never published): plain HTTP, every collection empty.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** Empty lists, watches that stay open, an in-memory Lease; collections in `broken` answer 500. */
export async function scriptedApi() {
  const broken = new Set<string>();
  const watches = new Map<string, Set<http.ServerResponse>>();
  const leases = new Map<string, Record<string, unknown>>();
  let rv = 1;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const lease = u.pathname.match(
        /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases(?:\/(.+))?$/,
      );
      if (lease) {
        if (req.method === 'GET') {
          const l = leases.get(lease[1] ?? '');
          return l ? json(200, l) : json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
        }
        const l = JSON.parse(body) as { metadata: Record<string, unknown> };
        const stored = { ...l, metadata: { ...l.metadata, resourceVersion: String(++rv) } };
        leases.set(String(l.metadata.name), stored);
        return json(req.method === 'POST' ? 201 : 200, stored);
      }
      if (req.method !== 'GET' || !u.pathname.match(/^\/apis?\/.+\/[a-z]+$/) || u.pathname.endsWith('/v1'))
        return json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
      if (broken.has(u.pathname)) return json(500, { kind: 'Status', code: 500, message: 'broken' });
      if (u.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        const open = watches.get(u.pathname) ?? new Set<http.ServerResponse>();
        watches.set(u.pathname, open);
        open.add(res);
        res.on('close', () => open.delete(res));
        return;
      }
      json(200, { kind: 'List', metadata: { resourceVersion: String(rv) }, items: [] });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true, // client-node refuses plain HTTP without it
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kc,
    /** Every request for `path` fails from now on, and its open watches end. */
    breakPath(path: string) {
      broken.add(path);
      for (const res of watches.get(path) ?? []) res.destroy();
    },
    fix: (path: string) => broken.delete(path),
    open: (path: string) => watches.get(path)?.size ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
