// Model-based property tests of the stateful core against a fake API server, with crashes and recovery.

import { parseAddr, parsePrefix } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GLOBAL_IP_ANNOTATION, type GlobalEgressIP, POOL_ANNOTATION, POOL_IP_ANNOTATION } from '../resources';
import { egressIP, FakeApi, ipPool, NOW, pod, service, serviceExport } from './fixtures';
import { createReconciler } from './reconciler';
import type { KubeObject, Reconciler } from './types';

const SERVICES = [
  { name: 's0', headless: false },
  { name: 's1', headless: false },
  { name: 's2', headless: true, app: 'x0' },
  { name: 's3', headless: true, app: 'x1' },
  { name: 's4', headless: false },
];

type Cmd =
  | { t: 'export'; i: number }
  | { t: 'unexport'; i: number }
  | { t: 'createPod'; j: number; app: number; pool: boolean }
  | { t: 'deletePod'; j: number }
  | { t: 'createEgress'; k: number; n: number; selector: boolean }
  | { t: 'deleteEgress'; k: number }
  | { t: 'crash' }
  | { t: 'lostWrites'; i: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ t: fc.constant('export' as const), i: fc.nat(4) }),
  fc.record({ t: fc.constant('unexport' as const), i: fc.nat(4) }),
  fc.record({ t: fc.constant('createPod' as const), j: fc.nat(7), app: fc.nat(2), pool: fc.boolean() }),
  fc.record({ t: fc.constant('deletePod' as const), j: fc.nat(7) }),
  fc.record({
    t: fc.constant('createEgress' as const),
    k: fc.nat(3),
    n: fc.integer({ min: 0, max: 22 }),
    selector: fc.boolean(),
  }),
  fc.record({ t: fc.constant('deleteEgress' as const), k: fc.nat(3) }),
  fc.constant({ t: 'crash' as const }),
);

/** Also: the controller dies after allocating but before its writes reach the API server. */
const lossyCmd: fc.Arbitrary<Cmd> = fc.oneof(
  cmd,
  fc.record({ t: fc.constant('lostWrites' as const), i: fc.nat(4) }),
);

interface World {
  api: FakeApi;
  core: Reconciler;
  created: number;
}

function world(globalCidr: string): World {
  const api = new FakeApi();
  api.put({ kind: 'IPPool', object: ipPool('p', { subnet: '172.16.0.0/29' }) });
  for (const s of SERVICES) {
    api.put({
      kind: 'Service',
      object: service('a', s.name, {
        headless: s.headless,
        ...(s.app ? { selector: { app: s.app } } : {}),
        created: 1,
      }),
    });
  }
  const core = createReconciler({ clusterID: 'east', globalCidr });
  api.settle(core, core.recover(api.list(), NOW));
  return { api, core, created: 10 };
}

function step(w: World, c: Cmd, globalCidr: string): void {
  const { api } = w;
  w.created++;
  switch (c.t) {
    case 'export':
      api.send(
        w.core,
        api.put({ kind: 'ServiceExport', object: serviceExport('a', SERVICES[c.i]?.name ?? '') }),
      );
      return;
    case 'unexport':
      api.send(
        w.core,
        api.remove({ kind: 'ServiceExport', object: serviceExport('a', SERVICES[c.i]?.name ?? '') }),
      );
      return;
    case 'createPod': {
      if (api.get('Pod', 'a', `p${c.j}`) !== undefined) return;
      const labels = { app: `x${c.app}` };
      const p = pod('a', `p${c.j}`, {
        labels,
        created: w.created,
        uid: `u-${c.j}-${w.created}`,
        ...(c.pool ? { annotations: { [POOL_ANNOTATION]: 'p' } } : {}),
      });
      api.send(w.core, api.put({ kind: 'Pod', object: p }));
      return;
    }
    case 'deletePod': {
      const cur = api.get('Pod', 'a', `p${c.j}`);
      if (cur !== undefined) api.send(w.core, api.remove(cur));
      return;
    }
    case 'createEgress': {
      const ns = c.selector ? 'a' : `n${c.k}`;
      const spec: GlobalEgressIP['spec'] = {
        numberOfIPs: c.n,
        ...(c.selector ? { podSelector: { matchLabels: { app: 'x0' } } } : {}),
      };
      if (api.get('GlobalEgressIP', ns, `e${c.k}`) !== undefined) return;
      api.send(w.core, api.put({ kind: 'GlobalEgressIP', object: egressIP(ns, `e${c.k}`, spec, w.created) }));
      return;
    }
    case 'deleteEgress':
      for (const o of [...api.objects.values()]) {
        if (o.kind === 'GlobalEgressIP' && o.object.metadata.name === `e${c.k}`)
          api.send(w.core, api.remove(o));
      }
      return;
    case 'lostWrites': {
      // The event reaches the core, its writes are lost, then the controller restarts.
      w.core.apply(
        api.put({ kind: 'ServiceExport', object: serviceExport('a', SERVICES[c.i]?.name ?? '') }),
        NOW,
      );
      w.core = createReconciler({ clusterID: 'east', globalCidr });
      api.settle(w.core, w.core.recover(api.list(), NOW));
      return;
    }
    case 'crash': {
      w.core = createReconciler({ clusterID: 'east', globalCidr });
      api.settle(w.core, w.core.recover(api.list(), NOW));
      return;
    }
  }
}

/** Every global IP written anywhere, with its holder. */
function written(api: FakeApi): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, o] of api.objects) {
    const ip = o.object.metadata?.annotations?.[GLOBAL_IP_ANNOTATION];
    if (ip !== undefined) out.push([ip, k]);
    if (o.kind === 'GlobalEgressIP' || o.kind === 'ClusterGlobalEgressIP') {
      for (const e of o.object.status?.allocatedIPs ?? []) out.push([e, k]);
    }
  }
  return out;
}

function checkInvariants(api: FakeApi, globalCidr: string): void {
  const cidr = parsePrefix(globalCidr);
  const owners = new Map<string, string>();
  for (const [ip, k] of written(api)) {
    expect(owners.get(ip), `${ip} held by ${owners.get(ip)} and ${k}`).toBeUndefined();
    owners.set(ip, k);
    expect(cidr.contains(parseAddr(ip)), `${ip} of ${k} inside ${globalCidr}`).toBe(true);
  }
  const poolIps = new Map<string, string>();
  for (const [k, o] of api.objects) {
    const ip = o.object.metadata?.annotations?.[POOL_IP_ANNOTATION];
    if (ip === undefined) continue;
    expect(poolIps.get(ip), `pool ip ${ip} twice`).toBeUndefined();
    poolIps.set(ip, k);
  }
  // Exactly the exported ClusterIP services and the pods of exported headless services carry a global IP.
  const exported = new Set(SERVICES.filter((s) => api.get('ServiceExport', 'a', s.name) !== undefined));
  const apps = new Set([...exported].filter((s) => s.headless).map((s) => s.app));
  for (const o of api.objects.values()) {
    const has = o.object.metadata?.annotations?.[GLOBAL_IP_ANNOTATION] !== undefined;
    if (o.kind === 'Service') {
      const s = SERVICES.find((x) => x.name === o.object.metadata?.name);
      expect(has, `service ${s?.name}`).toBe(s !== undefined && exported.has(s) && !s.headless);
    }
    if (o.kind === 'Pod')
      expect(has, `pod ${o.object.metadata?.name}`).toBe(apps.has(o.object.metadata?.labels?.app));
  }
}

/** The observable state: every object as written (annotations, status). */
function observable(api: FakeApi): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, o] of [...api.objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[k] = {
      annotations: o.object.metadata?.annotations ?? {},
      status: (o.object as { status?: unknown }).status ?? null,
    };
  }
  return out;
}

function teardown(w: World): void {
  const order: KubeObject['kind'][] = ['Pod', 'ServiceExport', 'Service', 'GlobalEgressIP', 'IPPool'];
  for (const kind of order) {
    for (const o of [...w.api.objects.values()]) if (o.kind === kind) w.api.send(w.core, w.api.remove(o));
  }
}

describe('reconcile core (model-based)', () => {
  it('never gives one IP two owners, keeps every IP inside the global CIDR, and a crash+recover changes nothing', () => {
    const cidr = '242.0.0.0/24';
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 40 }), (cmds) => {
        const steady = world(cidr);
        const crashy = world(cidr);
        for (const c of cmds) {
          if (c.t !== 'crash') step(steady, c, cidr);
          step(crashy, c, cidr);
          checkInvariants(crashy.api, cidr);
          expect(observable(crashy.api)).toEqual(observable(steady.api));
        }
        teardown(crashy);
        expect(crashy.core.stats()).toEqual({
          globalIps: 0,
          egressScopes: 0,
          poolAllocations: 0,
          pendingEgress: 0,
          allocatorOwners: 0,
        });
      }),
      { numRuns: 150 },
    );
  });

  it('under exhaustion (a /29 global CIDR) and lost writes still never duplicates an IP, and nothing leaks after all is deleted', () => {
    const cidr = '242.0.0.0/29';
    fc.assert(
      fc.property(fc.array(lossyCmd, { minLength: 1, maxLength: 40 }), (cmds) => {
        const w = world(cidr);
        for (const c of cmds) {
          step(w, c, cidr);
          checkInvariants2(w.api, cidr);
        }
        teardown(w);
        expect(w.core.stats()).toEqual({
          globalIps: 0,
          egressScopes: 0,
          poolAllocations: 0,
          pendingEgress: 0,
          allocatorOwners: 0,
        });
        expect(written(w.api)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

/** Under exhaustion, some exported objects wait: only uniqueness and containment hold. */
function checkInvariants2(api: FakeApi, globalCidr: string): void {
  const cidr = parsePrefix(globalCidr);
  const seen = new Set<string>();
  for (const [ip] of written(api)) {
    expect(seen.has(ip), `${ip} twice`).toBe(false);
    seen.add(ip);
    expect(cidr.contains(parseAddr(ip))).toBe(true);
  }
}
