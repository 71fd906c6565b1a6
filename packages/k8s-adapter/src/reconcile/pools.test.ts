import { describe, expect, it } from 'vitest';
import { type IPPool, POOL_ANNOTATION, POOL_IP_ANNOTATION } from '../resources';
import { FakeApi, ipPool, NOW, pod } from './fixtures';
import { poolOwner } from './pools';
import { createReconciler } from './reconciler';
import { POOL_ERROR_ANNOTATION } from './refs';
import type { KubeObject } from './types';

function setup() {
  const api = new FakeApi();
  const core = createReconciler({ clusterID: 'east', globalCidr: '242.0.0.0/24' });
  api.settle(core, core.recover(api.list(), NOW));
  const put = (o: KubeObject) => api.send(core, api.put(o));
  const del = (o: KubeObject) => api.send(core, api.remove(o));
  const ann = (name: string) => api.get('Pod', 'ns', name)?.object.metadata?.annotations ?? {};
  const status = (name: string) => (api.get('IPPool', '', name)?.object as IPPool | undefined)?.status;
  const asks = (name: string, pool: string) => pod('ns', name, { annotations: { [POOL_ANNOTATION]: pool } });
  return { api, core, put, del, ann, status, asks };
}

// 172.16.0.0/30: two host addresses.
const small = ipPool('small', { subnet: '172.16.0.0/30' });

describe('IPPool allocations by pod annotation', () => {
  it('a pod that asks gets the lowest free address as isthmus.io/ippool-ip; the pool status counts it', () => {
    const { put, ann, status } = setup();
    put({ kind: 'IPPool', object: small });
    put({ kind: 'Pod', object: pod('ns', 'plain') });
    put({ kind: 'Pod', object: { ...setup().asks('a', 'small') } });
    expect(ann('a')[POOL_IP_ANNOTATION]).toBe('172.16.0.1');
    expect(ann('plain')[POOL_IP_ANNOTATION]).toBeUndefined();
    expect(status('small')).toMatchObject({ total: '2', allocated: '1', free: '1' });
    expect(status('small')?.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['Exhausted', 'False'],
      ['Ready', 'True'],
    ]);
  });

  it('an unknown pool: a Warning UnknownPool and an error annotation; served once the pool exists', () => {
    const { api, core, put, ann, asks } = setup();
    const w = core.apply(api.put({ kind: 'Pod', object: asks('a', 'nope') }), NOW);
    expect(w.problems).toEqual([
      expect.objectContaining({ reason: 'UnknownPool', message: 'IPPool nope does not exist' }),
    ]);
    api.settle(core, w);
    expect(ann('a')[POOL_ERROR_ANNOTATION]).toBe('IPPool nope does not exist');
    put({ kind: 'IPPool', object: ipPool('nope', { subnet: '172.16.1.0/24' }) });
    expect(ann('a')[POOL_IP_ANNOTATION]).toBe('172.16.1.1');
    expect(ann('a')[POOL_ERROR_ANNOTATION]).toBeUndefined();
  });

  it('an exhausted pool: Warnings on pod and pool, Exhausted=True; a deleted pod frees its address for the waiting one', () => {
    const { api, core, put, del, ann, status, asks } = setup();
    put({ kind: 'IPPool', object: small });
    put({ kind: 'Pod', object: asks('a', 'small') });
    put({ kind: 'Pod', object: asks('b', 'small') });
    const w = core.apply(api.put({ kind: 'Pod', object: asks('c', 'small') }), NOW);
    expect(w.problems.map((p) => [p.ref.kind, p.reason])).toEqual([
      ['Pod', 'PoolExhausted'],
      ['IPPool', 'PoolExhausted'],
    ]);
    api.settle(core, w);
    expect(status('small')?.conditions?.find((c) => c.type === 'Exhausted')).toMatchObject({
      status: 'True',
      reason: 'PoolExhausted',
    });
    del({ kind: 'Pod', object: asks('a', 'small') });
    expect(ann('c')[POOL_IP_ANNOTATION]).toBe('172.16.0.1');
    expect(status('small')).toMatchObject({ allocated: '2', free: '0' });
    expect(status('small')?.conditions?.find((c) => c.type === 'Exhausted')?.status).toBe('False');
  });

  it('an invalid pool spec: InvalidSpec on the pool, Ready=False, InvalidPool on pods asking for it', () => {
    const { api, core, put, ann, status, asks } = setup();
    const w = core.apply(api.put({ kind: 'IPPool', object: ipPool('bad', { subnet: '10.0.0.1/8' }) }), NOW);
    expect(w.problems[0]?.reason).toBe('InvalidSpec');
    api.settle(core, w);
    expect(status('bad')?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
    });
    put({ kind: 'Pod', object: asks('a', 'bad') });
    expect(ann('a')[POOL_ERROR_ANNOTATION]).toMatch(/^IPPool bad is invalid/);
  });

  it('a spec change that drops addresses in use is refused (SpecRejected) and the old spec stays', () => {
    const { api, core, put, ann, status, asks } = setup();
    put({ kind: 'IPPool', object: ipPool('p', { subnet: '172.16.0.0/24' }) });
    put({ kind: 'Pod', object: asks('a', 'p') });
    const w = core.apply(
      api.put({
        kind: 'IPPool',
        object: ipPool('p', { subnet: '172.16.0.0/24', excludeIPs: ['172.16.0.1'] }),
      }),
      NOW,
    );
    expect(w.problems[0]?.reason).toBe('SpecRejected');
    api.settle(core, w);
    expect(status('p')?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('SpecRejected');
    expect(ann('a')[POOL_IP_ANNOTATION]).toBe('172.16.0.1');
  });

  it('a pod that drops or changes its pool annotation is released (or moved); a deleted pool unserves its pods', () => {
    const { core, put, del, ann, asks } = setup();
    put({ kind: 'IPPool', object: ipPool('p', { subnet: '172.16.0.0/24' }) });
    put({ kind: 'IPPool', object: ipPool('q', { subnet: '172.16.9.0/24' }) });
    put({ kind: 'Pod', object: asks('a', 'p') });
    put({ kind: 'Pod', object: asks('a', 'q') });
    expect(ann('a')[POOL_IP_ANNOTATION]).toBe('172.16.9.1');
    put({ kind: 'Pod', object: pod('ns', 'a') });
    expect(ann('a')[POOL_IP_ANNOTATION]).toBeUndefined();
    expect(core.stats().poolAllocations).toBe(0);
    put({ kind: 'Pod', object: asks('b', 'p') });
    del({ kind: 'IPPool', object: ipPool('p', { subnet: '172.16.0.0/24' }) });
    expect(ann('b')[POOL_IP_ANNOTATION]).toBeUndefined();
    expect(ann('b')[POOL_ERROR_ANNOTATION]).toBe('IPPool p does not exist');
    expect(core.stats().poolAllocations).toBe(0);
  });

  it('the owner key is the pod UID: a pod recreated under the same name is a new owner', () => {
    expect(poolOwner(pod('ns', 'a', { uid: 'u1' }))).toBe('u1');
    const { put, core, ann } = setup();
    put({ kind: 'IPPool', object: ipPool('p', { subnet: '172.16.0.0/24' }) });
    put({ kind: 'Pod', object: pod('ns', 'a', { uid: 'u1', annotations: { [POOL_ANNOTATION]: 'p' } }) });
    // The delete event was missed; the new pod (new UID) replaces the old one in the store.
    put({ kind: 'Pod', object: pod('ns', 'a', { uid: 'u2', annotations: { [POOL_ANNOTATION]: 'p' } }) });
    expect(core.stats().poolAllocations).toBe(1);
    expect(ann('a')[POOL_IP_ANNOTATION]).toBe('172.16.0.1');
  });
});
