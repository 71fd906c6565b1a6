import { describe, expect, it } from 'vitest';
import { GLOBAL_IP_ANNOTATION, type GlobalEgressIP, POOL_ANNOTATION, POOL_IP_ANNOTATION } from '../resources';
import { ReconcileError } from './errors';
import { egressIP, FakeApi, ipPool, NOW, pod, service, serviceExport } from './fixtures';
import { createReconciler } from './reconciler';
import type { KubeObject } from './types';

const CIDR = '242.0.0.0/24';

function exported(api: FakeApi, name: string, ip: string | undefined, created: number): void {
  api.put({
    kind: 'Service',
    object: service('shop', name, {
      created,
      ...(ip !== undefined ? { annotations: { [GLOBAL_IP_ANNOTATION]: ip } } : {}),
    }),
  });
  api.put({ kind: 'ServiceExport', object: serviceExport('shop', name) });
}

function recover(api: FakeApi) {
  const core = createReconciler({ clusterID: 'east', globalCidr: CIDR });
  const first = core.recover(api.list(), NOW);
  api.settle(core, first);
  const ann = (kind: KubeObject['kind'], ns: string, name: string) =>
    api.get(kind, ns, name)?.object.metadata?.annotations ?? {};
  return { core, first, ann };
}

describe('restart recovery', () => {
  it('keeps every recorded IP and hands out new ones only around them', () => {
    const api = new FakeApi();
    exported(api, 'a', '242.0.0.7', 1);
    exported(api, 'b', '242.0.0.1', 2);
    exported(api, 'new', undefined, 3);
    const { core, first, ann } = recover(api);
    expect(first.problems).toEqual([]);
    expect(ann('Service', 'shop', 'a')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.7');
    expect(ann('Service', 'shop', 'b')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    expect(ann('Service', 'shop', 'new')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.2');
    expect(core.stats().globalIps).toBe(3);
  });

  it('two objects claiming one IP: the older keeps it, the younger gets a new one and a GlobalIPConflict Warning', () => {
    const api = new FakeApi();
    exported(api, 'young', '242.0.0.5', 20);
    exported(api, 'old', '242.0.0.5', 10);
    const { first, ann } = recover(api);
    expect(ann('Service', 'shop', 'old')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.5');
    expect(ann('Service', 'shop', 'young')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    expect(first.problems).toEqual([
      expect.objectContaining({
        reason: 'GlobalIPConflict',
        ref: expect.objectContaining({ name: 'young' }),
      }),
    ]);
  });

  it('equal creation times fall back to the uid, so the winner does not depend on list order', () => {
    for (const order of [0, 1]) {
      const api = new FakeApi();
      const names = order === 0 ? ['x', 'y'] : ['y', 'x'];
      for (const n of names) exported(api, n, '242.0.0.9', 5);
      const { ann } = recover(api);
      // uid-svc-shop-x < uid-svc-shop-y
      expect(ann('Service', 'shop', 'x')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.9');
    }
  });

  it('an IP outside the global CIDR, the network address, and an unparsable value are replaced, with Warnings', () => {
    const api = new FakeApi();
    exported(api, 'outside', '10.1.2.3', 1);
    exported(api, 'network', '242.0.0.0', 2);
    exported(api, 'garbage', '242.0.0.300', 3);
    const { first, ann } = recover(api);
    const reasons = first.problems.map((p) => [p.ref.name, p.reason]).sort();
    expect(reasons).toEqual([
      ['garbage', 'InvalidAnnotation'],
      ['network', 'InvalidRecord'],
      ['outside', 'InvalidRecord'],
    ]);
    const ips = ['outside', 'network', 'garbage']
      .map((n) => ann('Service', 'shop', n)[GLOBAL_IP_ANNOTATION])
      .sort();
    expect(ips).toEqual(['242.0.0.1', '242.0.0.2', '242.0.0.3']);
  });

  it('an annotation on an unexported service is removed and its IP not restored', () => {
    const api = new FakeApi();
    api.put({
      kind: 'Service',
      object: service('shop', 'stale', { annotations: { [GLOBAL_IP_ANNOTATION]: '242.0.0.1' } }),
    });
    exported(api, 'live', undefined, 5);
    const { ann } = recover(api);
    expect(ann('Service', 'shop', 'stale')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    expect(ann('Service', 'shop', 'live')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
  });

  it('egress blocks come back from status; a service claiming an address inside a block loses to an older CR', () => {
    const api = new FakeApi();
    const e = egressIP('shop', 'e', { numberOfIPs: 2 }, 1);
    api.put({
      kind: 'GlobalEgressIP',
      object: { ...e, status: { allocatedIPs: ['242.0.0.3', '242.0.0.4'] } },
    });
    exported(api, 'svc', '242.0.0.4', 9);
    const { first, ann, core } = recover(api);
    expect(
      (api.get('GlobalEgressIP', 'shop', 'e')?.object as GlobalEgressIP | undefined)?.status?.allocatedIPs,
    ).toEqual(['242.0.0.3', '242.0.0.4']);
    expect(ann('Service', 'shop', 'svc')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    expect(first.problems.map((p) => p.reason)).toEqual(['GlobalIPConflict']);
    expect(core.stats().egressScopes).toBe(1);
  });

  it('a non-contiguous recorded block is not restored; the CR gets a fresh block', () => {
    const api = new FakeApi();
    const e = egressIP('shop', 'e', { numberOfIPs: 2 }, 1);
    api.put({
      kind: 'GlobalEgressIP',
      object: { ...e, status: { allocatedIPs: ['242.0.0.3', '242.0.0.9'] } },
    });
    const { first } = recover(api);
    expect(first.problems.map((p) => p.reason)).toContain('InvalidRecord');
    expect(
      (api.get('GlobalEgressIP', 'shop', 'e')?.object as GlobalEgressIP | undefined)?.status?.allocatedIPs,
    ).toEqual(['242.0.0.1', '242.0.0.2']);
  });

  it('pool addresses come back from pod annotations; a duplicate goes to the older pod (PoolIPConflict)', () => {
    const api = new FakeApi();
    api.put({ kind: 'IPPool', object: ipPool('p', { subnet: '172.16.0.0/24' }) });
    const asks = (name: string, ip: string, created: number) =>
      api.put({
        kind: 'Pod',
        object: pod('ns', name, {
          created,
          annotations: { [POOL_ANNOTATION]: 'p', [POOL_IP_ANNOTATION]: ip },
        }),
      });
    asks('young', '172.16.0.9', 20);
    asks('old', '172.16.0.9', 10);
    asks('out', '10.0.0.1', 5);
    const { first, ann, core } = recover(api);
    expect(ann('Pod', 'ns', 'old')[POOL_IP_ANNOTATION]).toBe('172.16.0.9');
    expect(ann('Pod', 'ns', 'young')[POOL_IP_ANNOTATION]).toBe('172.16.0.1');
    expect(ann('Pod', 'ns', 'out')[POOL_IP_ANNOTATION]).toBe('172.16.0.2');
    expect(first.problems.map((p) => [p.ref.name, p.reason]).sort()).toEqual([
      ['out', 'InvalidRecord'],
      ['young', 'PoolIPConflict'],
    ]);
    expect(core.stats().poolAllocations).toBe(3);
  });

  it('recovers 10,000 annotated pods of exported headless services without a write', () => {
    const api = new FakeApi();
    api.put({ kind: 'Service', object: service('big', 'db', { headless: true, selector: { app: 'db' } }) });
    api.put({ kind: 'ServiceExport', object: serviceExport('big', 'db') });
    for (let i = 0; i < 10_000; i++) {
      const ip = `242.0.${(i + 1) >> 8}.${(i + 1) & 255}`;
      api.put({
        kind: 'Pod',
        object: pod('big', `p${i}`, {
          labels: { app: 'db' },
          created: 1,
          annotations: { [GLOBAL_IP_ANNOTATION]: ip },
        }),
      });
    }
    const core = createReconciler({ clusterID: 'east', globalCidr: '242.0.0.0/16' });
    const w = core.recover(api.list(), NOW);
    expect(w.annotations).toEqual([]);
    expect(w.problems).toEqual([]);
    expect(core.stats().globalIps).toBe(10_000);
  });

  it('misuse is a typed error: apply before recover, recover twice, a bad clusterID', () => {
    const core = createReconciler({ clusterID: 'east' });
    const ev = { op: 'upsert' as const, kind: 'Pod' as const, object: pod('a', 'b') };
    expect(() => core.apply(ev, NOW)).toThrow(expect.objectContaining({ code: 'NOT_RECOVERED' }));
    core.recover({}, NOW);
    expect(() => core.recover({}, NOW)).toThrow(expect.objectContaining({ code: 'ALREADY_RECOVERED' }));
    let err: unknown;
    try {
      createReconciler({ clusterID: '' });
    } catch (e) {
      err = e;
    }
    expect(ReconcileError.isInstance(err) && err.code).toBe('INVALID_CONFIG');
    expect(() => core.apply({ op: 'upsert', kind: 'Bogus', object: {} } as never, NOW)).toThrow(
      expect.objectContaining({ code: 'INVALID_EVENT' }),
    );
  });
});
