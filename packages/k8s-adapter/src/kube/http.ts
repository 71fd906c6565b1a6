import * as http from 'node:http';
import * as https from 'node:https';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { codeForStatus, KubeError } from './errors';

/** What a request needs from a KubeConfig: the server URL, TLS material, auth headers and a keep-alive agent. */
interface Transport {
  readonly server: URL;
  /** Requests: kept-alive connections reused across calls (no TLS handshake per write), at most MAX_SOCKETS. */
  readonly agent: http.Agent;
  readonly base: https.RequestOptions;
  readonly expires: number;
}

const transports = new WeakMap<KubeConfig, Transport>();
// Auth headers can come from an exec plugin or a token file; refresh them now and then.
const AUTH_TTL_MS = 60_000;
/** Concurrent request connections per KubeConfig; more requests wait for a free one. */
const MAX_SOCKETS = 64;

async function transport(kc: KubeConfig): Promise<Transport> {
  const cached = transports.get(kc);
  if (cached && cached.expires > Date.now()) return cached;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('NO_CLUSTER', 'the kubeconfig has no current cluster');
  const opts: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    throw new KubeError('NO_CLUSTER', `the kubeconfig cannot be used: ${(e as Error).message}`, {
      server: cluster.server,
    });
  }
  const server = new URL(cluster.server);
  const base: https.RequestOptions = {
    headers: { ...(opts.headers as Record<string, string> | undefined) },
    ...(opts.auth === undefined ? {} : { auth: opts.auth }),
  };
  const tls: https.AgentOptions = {
    keepAlive: true,
    keepAliveMsecs: 30_000,
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    ...(opts.cert === undefined ? {} : { cert: opts.cert }),
    ...(opts.key === undefined ? {} : { key: opts.key }),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
  const newAgent = (o: http.AgentOptions) =>
    server.protocol === 'https:'
      ? new https.Agent({ ...tls, ...o })
      : new http.Agent({ keepAlive: true, ...o });
  const agent = cached?.agent ?? newAgent({ maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS });
  const t: Transport = { server, agent, base, expires: Date.now() + AUTH_TTL_MS };
  transports.set(kc, t);
  return t;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly body?: unknown;
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

function url(t: Transport, path: string, query: RequestOptions['query']): URL {
  const u = new URL(t.server.href.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u;
}

function open(
  t: Transport,
  u: URL,
  method: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): http.ClientRequest {
  const lib = u.protocol === 'https:' ? https : http;
  return lib.request(u, {
    ...t.base,
    method,
    agent: t.agent,
    headers: { ...(t.base.headers as Record<string, string>), accept: 'application/json', ...headers },
    ...(signal === undefined ? {} : { signal }),
  });
}

function statusError(status: number, text: string, method: string, path: string): KubeError {
  let reason: string | undefined;
  let message = text.slice(0, 500);
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason;
    if (s.message) message = s.message;
  } catch {
    // not a Status object: keep the raw text
  }
  return new KubeError(codeForStatus(status, reason), `${method} ${path}: ${status} ${message}`, {
    status,
    method,
    path,
    ...(reason === undefined ? {} : { reason }),
  });
}

/** One API call; resolves with the parsed JSON body of a 2xx answer, rejects with a KubeError otherwise. */
export async function request<T = unknown>(
  kc: KubeConfig,
  path: string,
  opts: RequestOptions = {},
): Promise<T> {
  const t = await transport(kc);
  const method = opts.method ?? 'GET';
  const u = url(t, path, opts.query);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string> = {};
  if (payload) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise<T>((resolve, reject) => {
    const req = open(t, u, method, headers, opts.signal);
    req.setTimeout(opts.timeoutMs ?? 30_000, () => {
      req.destroy(
        new KubeError('TIMEOUT', `${method} ${path}: no answer in ${opts.timeoutMs ?? 30_000} ms`, {
          method,
          path,
        }),
      );
    });
    req.on('error', (e) =>
      reject(
        KubeError.isInstance(e)
          ? e
          : new KubeError('NETWORK', `${method} ${path}: ${e.message}`, { method, path }),
      ),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) =>
        reject(new KubeError('NETWORK', `${method} ${path}: ${e.message}`, { method, path })),
      );
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(statusError(status, text, method, path));
        if (text === '') return resolve(undefined as T);
        try {
          resolve(JSON.parse(text) as T);
        } catch {
          reject(
            new KubeError('INVALID_RESPONSE', `${method} ${path}: the answer is not JSON`, {
              method,
              path,
              status,
            }),
          );
        }
      });
    });
    if (payload) req.write(payload);
    req.end();
  });
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

export interface WatchHandle {
  /** Ends the watch; `done` is not called after this. */
  abort(): void;
}

/**
 * A streaming watch on @kubernetes/client-node's `Watch` (its auth, TLS and line parsing): calls `onEvent`
 * per event and `done` once, when the stream ends (error or not). Non-2xx answers reach `done` as a
 * KubeError (410 Gone as code GONE); a line that is not JSON is skipped by client-node, and a stream that
 * stops carrying lines is the informer's watchdog's to restart.
 */
export async function watchStream(
  kc: KubeConfig,
  path: string,
  query: RequestOptions['query'],
  onEvent: (e: WatchEvent) => void,
  done: (err: KubeError | undefined) => void,
): Promise<WatchHandle> {
  let finished = false;
  const finish = (err: KubeError | undefined) => {
    if (finished) return;
    finished = true;
    done(err);
  };
  const params: Record<string, string | number | boolean | undefined> = {};
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params[k] = v;
  let controller: AbortController;
  try {
    controller = await new Watch(kc).watch(
      path,
      params,
      (type, object) => {
        if (!finished)
          onEvent({ type: type as WatchEvent['type'], object: object as Record<string, unknown> });
      },
      (err: unknown) => finish(err == null ? undefined : watchError(err, path)),
    );
  } catch (e) {
    // No current cluster in the KubeConfig, or auth that cannot be applied.
    throw watchError(e, path);
  }
  return {
    abort() {
      finished = true;
      controller.abort();
    },
  };
}

/** What client-node's Watch reports (an Error with statusCode for an HTTP answer) as a KubeError. */
function watchError(err: unknown, path: string): KubeError {
  if (KubeError.isInstance(err)) return err;
  const status = (err as { statusCode?: unknown }).statusCode;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof status === 'number') {
    return new KubeError(codeForStatus(status), `GET ${path} (watch): ${status} ${message}`, {
      status,
      method: 'GET',
      path,
    });
  }
  return new KubeError('NETWORK', `watch ${path}: ${message}`, { path });
}
