// The informer's recovery paths (410 Gone, a stalled watch, a failed list) against a scripted HTTP server.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../test-support/kube-setup';
import { backoffMs, createInformer, type Informer } from './informer';

type Obj = { metadata: { name: string; resourceVersion: string } };
const obj = (name: string, rv: number): Obj => ({ metadata: { name, resourceVersion: String(rv) } });

interface Script {
  lists: Obj[][];
  /** What each watch does in turn: send these lines then end, or hang silently. */
  watches: ({ lines: object[]; after: 'end' | 'hang' } | 'fail' | 'gone')[];
  listFailures: number;
}

async function fakeServer(script: Script) {
  const requests: string[] = [];
  const open = new Set<http.ServerResponse>();
  let listCount = 0;
  let watchCount = 0;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.searchParams.get('watch') === 'true') {
      requests.push(
        `watch rv=${u.searchParams.get('resourceVersion')} bookmarks=${u.searchParams.get('allowWatchBookmarks')}`,
      );
      const w = script.watches[watchCount++] ?? { lines: [], after: 'hang' as const };
      if (w === 'fail') {
        res.writeHead(500).end('{"kind":"Status","message":"boom"}');
        return;
      }
      if (w === 'gone') {
        res.writeHead(410).end('{"kind":"Status","code":410,"reason":"Gone"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      for (const l of w.lines) res.write(`${JSON.stringify(l)}\n`);
      if (w.after === 'end') res.end();
      else open.add(res);
      return;
    }
    requests.push('list');
    if (script.listFailures > 0) {
      script.listFailures--;
      res.writeHead(503).end('{}');
      return;
    }
    const items = script.lists[Math.min(listCount++, script.lists.length - 1)] ?? [];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: { resourceVersion: String(100 + listCount) }, items }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kc,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function record(inf: Informer<Obj>): string[] {
  const seen: string[] = [];
  inf.on('add', (o) => seen.push(`add ${o.metadata.name}`));
  inf.on('update', (o) => seen.push(`update ${o.metadata.name}@${o.metadata.resourceVersion}`));
  inf.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  return seen;
}

describe('createInformer recovery', () => {
  it('on 410 Gone it relists and emits the difference: what vanished is deleted, what changed is updated', async () => {
    const srv = await fakeServer({
      lists: [
        [obj('a', 1), obj('b', 2)],
        [obj('b', 5), obj('c', 6)],
      ],
      watches: [
        {
          lines: [{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }],
          after: 'hang',
        },
      ],
      listFailures: 0,
    });
    cleanup.push(srv.close);
    const restarts: string[] = [];
    const inf = createInformer<Obj>({
      kubeConfig: srv.kc,
      path: '/api/v1/things',
      onRestart: (r) => restarts.push(r),
      random: () => 0,
    });
    cleanup.push(async () => inf.stop());
    const seen = record(inf);
    await inf.start();
    await until('relist', () => seen.includes('add c'), 5_000, 10);
    expect(seen).toEqual(['add a', 'add b', 'update b@5', 'add c', 'delete a']);
    expect(restarts).toEqual(['gone']);
    expect(inf.restarts).toBe(1);
    expect(srv.requests.slice(0, 3)).toEqual(['list', 'watch rv=101 bookmarks=true', 'list']);
  });

  it('a watch answered with HTTP 410 (not an ERROR event) relists too', async () => {
    const srv = await fakeServer({
      lists: [[obj('a', 1)], [obj('a', 3)]],
      watches: ['gone'],
      listFailures: 0,
    });
    cleanup.push(srv.close);
    const restarts: string[] = [];
    const inf = createInformer<Obj>({
      kubeConfig: srv.kc,
      path: '/api/v1/things',
      onRestart: (r) => restarts.push(r),
      random: () => 0,
    });
    cleanup.push(async () => inf.stop());
    const seen = record(inf);
    await inf.start();
    await until('relist', () => seen.includes('update a@3'), 5_000, 10);
    expect(seen).toEqual(['add a', 'update a@3']);
    expect(restarts).toEqual(['gone']);
    expect(srv.requests.slice(0, 3)).toEqual(['list', 'watch rv=101 bookmarks=true', 'list']);
  });

  it('a watch silent for longer than stallTimeoutMs is restarted from the last resourceVersion seen', async () => {
    const srv = await fakeServer({
      lists: [[obj('a', 1)]],
      watches: [
        {
          lines: [
            { type: 'MODIFIED', object: obj('a', 7) },
            { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } },
          ],
          after: 'hang',
        },
        { lines: [{ type: 'ADDED', object: obj('z', 10) }], after: 'hang' },
      ],
      listFailures: 0,
    });
    cleanup.push(srv.close);
    const restarts: string[] = [];
    const inf = createInformer<Obj>({
      kubeConfig: srv.kc,
      path: '/api/v1/things',
      stallTimeoutMs: 300,
      onRestart: (r) => restarts.push(r),
      random: () => 0,
    });
    cleanup.push(async () => inf.stop());
    const seen = record(inf);
    await inf.start();
    await until('second watch', () => seen.includes('add z'), 5_000, 10);
    expect(seen).toEqual(['add a', 'update a@7', 'add z']);
    expect(restarts[0]).toBe('stall');
    // The restart resumes after the bookmark: nothing is listed again, nothing replayed.
    expect(srv.requests.slice(0, 3)).toEqual([
      'list',
      'watch rv=101 bookmarks=true',
      'watch rv=9 bookmarks=true',
    ]);
  });

  it('a failing watch is retried with backoff; a watch the server ends cleanly is renewed without a restart', async () => {
    const srv = await fakeServer({
      lists: [[obj('a', 1)]],
      watches: [
        'fail',
        { lines: [{ type: 'ADDED', object: obj('b', 3) }], after: 'end' },
        { lines: [{ type: 'ADDED', object: obj('c', 4) }], after: 'hang' },
      ],
      listFailures: 0,
    });
    cleanup.push(srv.close);
    const restarts: string[] = [];
    const inf = createInformer<Obj>({
      kubeConfig: srv.kc,
      path: '/api/v1/things',
      onRestart: (r) => restarts.push(r),
      random: () => 0,
    });
    cleanup.push(async () => inf.stop());
    const seen = record(inf);
    await inf.start();
    await until('c', () => seen.includes('add c'), 5_000, 10);
    expect(restarts).toEqual(['watch: HTTP_ERROR']);
    expect(srv.requests).toEqual([
      'list',
      'watch rv=101 bookmarks=true',
      'watch rv=101 bookmarks=true',
      'watch rv=3 bookmarks=true',
    ]);
  });

  it('start() waits through failed lists until one succeeds', async () => {
    const srv = await fakeServer({ lists: [[obj('a', 1)]], watches: [], listFailures: 2 });
    cleanup.push(srv.close);
    const inf = createInformer<Obj>({ kubeConfig: srv.kc, path: '/api/v1/things', random: () => 0 });
    cleanup.push(async () => inf.stop());
    await inf.start();
    expect(inf.synced).toBe(true);
    expect(inf.get('a')?.metadata.resourceVersion).toBe('1');
    expect(srv.requests.slice(0, 3)).toEqual(['list', 'list', 'list']);
    expect(inf.restarts).toBe(2);
  });

  it('failingSince marks a run of failed lists and refused watches, and is 0 again once a list or watch works', async () => {
    const srv = await fakeServer({
      lists: [[obj('a', 1)]],
      watches: [
        'fail',
        'fail',
        { lines: [{ type: 'BOOKMARK', object: { metadata: { resourceVersion: '101' } } }], after: 'hang' },
      ],
      listFailures: 1,
    });
    cleanup.push(srv.close);
    const inf = createInformer<Obj>({ kubeConfig: srv.kc, path: '/api/v1/things', random: () => 0 });
    cleanup.push(async () => inf.stop());
    expect(inf.failingSince).toBe(0);
    const sinceList: number[] = [];
    inf.on('add', () => sinceList.push(inf.failingSince));
    const before = Date.now();
    await inf.start();
    // The add is emitted after the successful list has cleared the failure.
    expect(sinceList).toEqual([0]);
    await until('first refused watch', () => inf.failingSince > 0, 5_000, 5);
    const first = inf.failingSince;
    expect(first).toBeGreaterThanOrEqual(before);
    // The second refusal continues the same run: the time stays the first failure's.
    await until('second refused watch', () => inf.restarts === 3, 5_000, 5);
    expect(inf.failingSince).toBe(first);
    await until('watch accepted', () => inf.failingSince === 0, 5_000, 5);
    expect(srv.requests).toEqual([
      'list',
      'list',
      'watch rv=101 bookmarks=true',
      'watch rv=101 bookmarks=true',
      'watch rv=101 bookmarks=true',
    ]);
  });

  it('backoff doubles from 200 ms to at most 30 s, jittered by +-50%', () => {
    expect([0, 1, 2, 3].map((n) => backoffMs(n, () => 0.5))).toEqual([200, 400, 800, 1600]);
    expect(backoffMs(30, () => 0.5)).toBe(30_000);
    expect(backoffMs(0, () => 0)).toBe(100);
    expect(backoffMs(0, () => 0.999)).toBe(300);
  });
});
