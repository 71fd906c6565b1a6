import { describe, expect, it } from 'vitest';
import { GLOBAL_IP_ANNOTATION } from '../resources';
import { FakeApi, member, NOW, pod, service, serviceExport } from './fixtures';
import { createReconciler } from './reconciler';
import { GLOBAL_IP_ERROR_ANNOTATION } from './refs';
import type { KubeObject } from './types';

function setup(globalCidr = '242.0.0.0/24') {
  const api = new FakeApi();
  const core = createReconciler({ clusterID: 'east', globalCidr });
  api.settle(core, core.recover(api.list(), NOW));
  const put = (o: KubeObject) => api.send(core, api.put(o));
  const del = (o: KubeObject) => api.send(core, api.remove(o));
  const ann = (kind: 'Pod' | 'Service', ns: string, name: string) =>
    api.get(kind, ns, name)?.object.metadata?.annotations ?? {};
  return { api, core, put, del, ann };
}

describe('global IPs of exported services', () => {
  it('an exported ClusterIP service gets one global IP as an annotation; unexporting removes it and frees the IP', () => {
    const { core, put, del, ann } = setup();
    put({ kind: 'Service', object: service('shop', 'web') });
    expect(ann('Service', 'shop', 'web')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    put({ kind: 'ServiceExport', object: serviceExport('shop', 'web') });
    expect(ann('Service', 'shop', 'web')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    expect(core.globalIpOf('service', 'shop', 'web')).toBe('242.0.0.1');
    del({ kind: 'ServiceExport', object: serviceExport('shop', 'web') });
    expect(ann('Service', 'shop', 'web')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    expect(core.stats().globalIps).toBe(0);
  });

  it('is idempotent: updates of the same service keep its IP and write nothing', () => {
    const { api, core, put } = setup();
    put({ kind: 'Service', object: service('shop', 'web') });
    put({ kind: 'ServiceExport', object: serviceExport('shop', 'web') });
    const cur = api.get('Service', 'shop', 'web');
    if (cur === undefined) throw new Error('missing');
    const w = core.apply({ op: 'upsert', ...cur } as never, NOW);
    expect(w.annotations).toEqual([]);
    expect(core.globalIpOf('service', 'shop', 'web')).toBe('242.0.0.1');
  });

  it('the export may come before the service; a deleted service releases its IP', () => {
    const { core, put, del, ann } = setup();
    put({ kind: 'ServiceExport', object: serviceExport('shop', 'web') });
    put({ kind: 'Service', object: service('shop', 'web') });
    expect(ann('Service', 'shop', 'web')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    del({ kind: 'Service', object: service('shop', 'web') });
    expect(core.stats().globalIps).toBe(0);
    put({ kind: 'Service', object: service('shop', 'api') });
    put({ kind: 'ServiceExport', object: serviceExport('shop', 'api') });
    expect(ann('Service', 'shop', 'api')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
  });

  it('NodePort, LoadBalancer and ExternalName services get no global IP', () => {
    const { put, ann } = setup();
    for (const type of ['NodePort', 'LoadBalancer', 'ExternalName']) {
      put({ kind: 'Service', object: service('shop', type.toLowerCase(), { type }) });
      put({ kind: 'ServiceExport', object: serviceExport('shop', type.toLowerCase()) });
      expect(ann('Service', 'shop', type.toLowerCase())[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    }
  });
});

describe('global IPs of the pods of exported headless services', () => {
  it('each pod the selector picks gets one (pods stay Pending: membership is by selector, not Endpoints)', () => {
    const { core, put, ann } = setup();
    put({ kind: 'Pod', object: pod('db', 'db-0', { labels: { app: 'db' } }) });
    put({ kind: 'Pod', object: pod('db', 'db-1', { labels: { app: 'db' } }) });
    put({ kind: 'Pod', object: pod('db', 'other', { labels: { app: 'web' } }) });
    put({ kind: 'Pod', object: pod('elsewhere', 'db-0', { labels: { app: 'db' } }) });
    put({ kind: 'Service', object: service('db', 'db', { headless: true, selector: { app: 'db' } }) });
    put({ kind: 'ServiceExport', object: serviceExport('db', 'db') });
    expect(ann('Service', 'db', 'db')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    expect(ann('Pod', 'db', 'db-0')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    expect(ann('Pod', 'db', 'db-1')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.2');
    expect(ann('Pod', 'db', 'other')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    expect(ann('Pod', 'elsewhere', 'db-0')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    expect(core.stats().globalIps).toBe(2);
  });

  it('follows pods joining, relabelled out of, and deleted from the selection', () => {
    const { core, put, del, ann } = setup();
    put({ kind: 'Service', object: service('db', 'db', { headless: true, selector: { app: 'db' } }) });
    put({ kind: 'ServiceExport', object: serviceExport('db', 'db') });
    put({ kind: 'Pod', object: pod('db', 'db-0', { labels: { app: 'db' } }) });
    expect(ann('Pod', 'db', 'db-0')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    put({ kind: 'Pod', object: pod('db', 'db-0', { labels: { app: 'gone' } }) });
    expect(ann('Pod', 'db', 'db-0')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    put({ kind: 'Pod', object: pod('db', 'db-1', { labels: { app: 'db' } }) });
    del({ kind: 'Pod', object: pod('db', 'db-1') });
    expect(core.stats().globalIps).toBe(0);
  });

  it('a pod picked by two exported headless services holds one IP until neither picks it', () => {
    const { core, put, del, ann } = setup();
    put({ kind: 'Pod', object: pod('db', 'p', { labels: { a: '1', b: '1' } }) });
    put({ kind: 'Service', object: service('db', 'sa', { headless: true, selector: { a: '1' } }) });
    put({ kind: 'Service', object: service('db', 'sb', { headless: true, selector: { b: '1' } }) });
    put({ kind: 'ServiceExport', object: serviceExport('db', 'sa') });
    put({ kind: 'ServiceExport', object: serviceExport('db', 'sb') });
    expect(core.stats().globalIps).toBe(1);
    del({ kind: 'ServiceExport', object: serviceExport('db', 'sa') });
    expect(ann('Pod', 'db', 'p')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    del({ kind: 'ServiceExport', object: serviceExport('db', 'sb') });
    expect(ann('Pod', 'db', 'p')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
  });

  it('a changed selector moves the IPs to the newly selected pods', () => {
    const { put, ann } = setup();
    put({ kind: 'Pod', object: pod('db', 'x', { labels: { app: 'x' } }) });
    put({ kind: 'Pod', object: pod('db', 'y', { labels: { app: 'y' } }) });
    put({ kind: 'Service', object: service('db', 's', { headless: true, selector: { app: 'x' } }) });
    put({ kind: 'ServiceExport', object: serviceExport('db', 's') });
    put({ kind: 'Service', object: service('db', 's', { headless: true, selector: { app: 'y' } }) });
    expect(ann('Pod', 'db', 'x')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    expect(ann('Pod', 'db', 'y')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
  });
});

describe('when no global IP can be given', () => {
  it('exhaustion: a Warning and an error annotation, served as soon as an IP is freed', () => {
    // A /30 has two usable addresses.
    const { put, del, ann, api, core } = setup('242.0.0.0/30');
    for (const n of ['a', 'b', 'c']) {
      put({ kind: 'Service', object: service('shop', n) });
    }
    put({ kind: 'ServiceExport', object: serviceExport('shop', 'a') });
    put({ kind: 'ServiceExport', object: serviceExport('shop', 'b') });
    const ev = api.put({ kind: 'ServiceExport', object: serviceExport('shop', 'c') });
    const w = core.apply(ev, NOW);
    expect(w.problems).toEqual([
      expect.objectContaining({
        reason: 'GlobalnetExhausted',
        ref: expect.objectContaining({ kind: 'Service', name: 'c' }),
      }),
    ]);
    api.settle(core, w);
    expect(ann('Service', 'shop', 'c')[GLOBAL_IP_ERROR_ANNOTATION]).toMatch(
      /no free global IP in 242.0.0.0\/30/,
    );
    expect(ann('Service', 'shop', 'c')[GLOBAL_IP_ANNOTATION]).toBeUndefined();
    del({ kind: 'ServiceExport', object: serviceExport('shop', 'a') });
    expect(ann('Service', 'shop', 'c')[GLOBAL_IP_ANNOTATION]).toBe('242.0.0.1');
    expect(ann('Service', 'shop', 'c')[GLOBAL_IP_ERROR_ANNOTATION]).toBeUndefined();
  });

  it('without a global CIDR, services wait and are served once the local member is allotted one', () => {
    const api = new FakeApi();
    const core = createReconciler({ clusterID: 'east' });
    api.settle(core, core.recover(api.list(), NOW));
    api.send(core, api.put({ kind: 'Service', object: service('shop', 'web') }));
    const w = api.send(core, api.put({ kind: 'ServiceExport', object: serviceExport('shop', 'web') }));
    expect(w[0]?.problems[0]?.reason).toBe('NoGlobalCIDR');
    api.send(core, api.put({ kind: 'ClusterSetMember', object: member('east', 'east') }));
    expect(api.get('Service', 'shop', 'web')?.object.metadata?.annotations?.[GLOBAL_IP_ANNOTATION]).toBe(
      '242.0.0.1',
    );
  });
});

describe('scale', () => {
  it('2,000 exports: each event writes exactly its own service, and all 2,000 IPs differ', () => {
    const core = createReconciler({ clusterID: 'east', globalCidr: '242.0.0.0/16' });
    core.recover({ services: Array.from({ length: 2000 }, (_, i) => service('ns', `s${i}`)) }, NOW);
    const ips = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const w = core.apply(
        { op: 'upsert', kind: 'ServiceExport', object: serviceExport('ns', `s${i}`) },
        NOW,
      );
      expect(w.annotations.map((a) => a.ref.name)).toEqual([`s${i}`]);
      ips.add(w.annotations[0]?.annotations[GLOBAL_IP_ANNOTATION] ?? '');
    }
    expect(ips.size).toBe(2000);
  });
});
