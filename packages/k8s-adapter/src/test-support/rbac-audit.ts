// What RBAC a program needs, read off the requests it really makes (never published): a recording proxy
// in front of a real API server, and the API server's own mapping of a request to (group, resource, verb).
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** One request that passed the proxy, with the status it was answered with. */
export interface ApiCall {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly status: number;
  /** True when the proxy answered it itself (a fault), without asking the API server. */
  readonly injected: boolean;
}

/** What an RBAC rule must grant for one request. */
export interface Permission {
  /** '' for the core group. */
  readonly group: string;
  /** The plural, with the subresource: 'pods', 'ippools/status'. */
  readonly resource: string;
  readonly verb: string;
  readonly namespace?: string;
  readonly name?: string;
}

// Subresources of a namespace; anything else after /namespaces/<ns>/ is a namespaced resource.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/**
 * The permission the API server checks for `method url`, as its RequestInfoFactory resolves it
 * (k8s.io/apiserver/pkg/endpoints/request); undefined for non-resource paths (discovery, /healthz).
 */
export function permissionOf(method: string, url: string): Permission | undefined {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter((p) => p !== '');
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else return undefined;
  if (rest.length === 0) return undefined; // /api/v1, /apis/<group>/<version>: discovery
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  const [resource = '', name, subresource] = rest;
  const watch = ['true', '1'].includes(u.searchParams.get('watch') ?? '');
  const verbs: Record<string, string> = {
    GET: name === undefined ? (watch ? 'watch' : 'list') : 'get',
    HEAD: name === undefined ? 'list' : 'get',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name === undefined ? 'deletecollection' : 'delete',
  };
  const verb = verbs[method.toUpperCase()];
  if (verb === undefined) return undefined;
  return {
    group,
    resource: subresource === undefined ? resource : `${resource}/${subresource}`,
    verb,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
  };
}

/** "group|resource|verb" of each distinct permission the calls needed. */
export function permissionsUsed(calls: readonly ApiCall[]): string[] {
  const out = new Set<string>();
  for (const c of calls) {
    const p = permissionOf(c.method, c.url);
    if (p) out.add(`${p.group}|${p.resource}|${p.verb}`);
  }
  return [...out].sort();
}

export interface Fault {
  readonly status: number;
  readonly body: unknown;
}

export interface RecordingProxy {
  /** Every request so far, in arrival order. */
  readonly calls: ApiCall[];
  /** `kc`'s user (its token) talking to the API server through this proxy. */
  kubeConfig(kc: KubeConfig): KubeConfig;
  close(): Promise<void>;
}

/**
 * A plain-HTTP proxy to the API server of `upstream` that records each request and its answer; the
 * caller's own credentials (its Authorization header) go through unchanged, watches stream. `fault` may
 * answer a request itself (e.g. a 409 Conflict, to drive a conflict path) instead of forwarding it.
 */
export async function startRecordingProxy(
  upstream: KubeConfig,
  fault?: (method: string, url: string) => Fault | undefined,
): Promise<RecordingProxy> {
  const cluster = upstream.getCurrentCluster();
  if (!cluster) throw new Error('startRecordingProxy: the KubeConfig has no current cluster');
  const target = new URL(cluster.server);
  const tls: https.RequestOptions = {};
  await upstream.applyToHTTPSOptions(tls);
  const agent = new https.Agent({ keepAlive: true, ...(tls.ca === undefined ? {} : { ca: tls.ca }) });
  const calls: ApiCall[] = [];
  const inflight = new Set<http.ClientRequest>();

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const injected = fault?.(method, url);
    if (injected) {
      req.resume();
      calls.push({ method, url, status: injected.status, injected: true });
      res
        .writeHead(injected.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(injected.body));
      return;
    }
    const up = https.request(new URL(url, target), {
      method,
      agent,
      headers: { ...req.headers, host: target.host },
    });
    inflight.add(up);
    up.on('close', () => inflight.delete(up));
    up.on('response', (r) => {
      calls.push({ method, url, status: r.statusCode ?? 0, injected: false });
      res.writeHead(r.statusCode ?? 502, r.headers);
      res.flushHeaders(); // a watch's headers reach the client before its first event
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502).end(e.message);
      else res.destroy();
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    calls,
    kubeConfig(kc) {
      const user = kc.getCurrentUser();
      if (!user) throw new Error('RecordingProxy.kubeConfig: the KubeConfig has no current user');
      const out = new KubeConfig();
      out.loadFromOptions({
        // client-node speaks plain HTTP only with skipTLSVerify; the proxy talks TLS to the server.
        clusters: [{ name: 'recorded', server: proxyUrl, skipTLSVerify: true }],
        users: [user],
        contexts: [{ name: 'recorded', cluster: 'recorded', user: user.name }],
        currentContext: 'recorded',
      });
      return out;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const up of inflight) up.destroy();
        server.closeAllConnections();
        server.close(() => {
          agent.destroy();
          r();
        });
      }),
  };
}
