// The runtime (CRDs, informer, writes, events, Lease elector) against a real kube-apiserver.
import { expect, it } from 'vitest';
import { describeKube } from '../../../../testing/kube';
import { crdManifests } from '../crds';
import { createLeaderElector } from '../leader';
import { create, ensureNamespace, installCrds, until } from '../test-support/kube-setup';
import { SAMPLES } from '../test-support/samples';
import { KubeError } from './errors';
import { createEventRecorder } from './events';
import { createInformer } from './informer';
import { mergePatch, updateStatus } from './write';

type Pod = {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    uid?: string;
    annotations?: Record<string, string>;
  };
};
const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describeKube('k8s-adapter runtime against a real API server', (getKube) => {
  it('the API server accepts the CRDs as rendered and stores exactly our schemas', async () => {
    const kube = getKube();
    await installCrds(kube);
    for (const c of crdManifests()) {
      const r = await kube.request<{
        spec: { versions: { schema: unknown; additionalPrinterColumns: unknown; subresources: unknown }[] };
      }>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.metadata.name}`);
      const v = r.body.spec.versions[0];
      expect(v?.schema).toEqual(c.spec.versions[0]?.schema);
      expect(v?.subresources).toEqual({ status: {} });
      expect(v?.additionalPrinterColumns).toEqual(c.spec.versions[0]?.additionalPrinterColumns);
    }
  });

  it('a sample of each kind with every field set is stored unpruned, status through the subresource', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('crd');
    for (const [kind, sample] of Object.entries(SAMPLES)) {
      const plural = `${kind.toLowerCase()}s`;
      const namespaced = kind === 'GlobalEgressIP';
      const name = `sample-${ns}`;
      const base = namespaced
        ? `/apis/isthmus.io/v1alpha1/namespaces/${ns}/${plural}`
        : `/apis/isthmus.io/v1alpha1/${plural}`;
      const { status, ...rest } = sample as typeof sample & { status: unknown };
      const body = { ...rest, metadata: { name, ...(namespaced ? { namespace: ns } : {}) } };
      const made = await create<{ spec: unknown; status?: unknown; metadata: Record<string, unknown> }>(
        kube,
        base,
        { ...body, status },
      );
      expect(made.spec).toEqual(sample.spec);
      expect(made.status).toBeUndefined(); // status is the subresource's, not the main resource's
      const put = await kube.request<{ status: unknown }>('PUT', `${base}/${name}/status`, {
        ...made,
        status,
      });
      expect({ kind, code: put.status, status: put.body.status }).toEqual({ kind, code: 200, status });
    }
  });

  it('numberOfIPs 21 is stored by default (the controller reports it) and refused (422) with egressLimits; a pool without a subnet is refused', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('crd');
    const egress = (name: string) =>
      kube.request<{ message: string }>(
        'POST',
        `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips`,
        {
          apiVersion: 'isthmus.io/v1alpha1',
          kind: 'GlobalEgressIP',
          metadata: { name },
          spec: { numberOfIPs: 21 },
        },
      );
    expect((await egress('stored')).status).toBe(201);
    await installCrds(kube, { egressLimits: true });
    try {
      // The server picks up a changed schema a moment after the update.
      const r = await until('schema limits in force', async () => {
        const got = await egress(`refused-${Date.now()}`);
        return got.status === 422 ? got : false;
      });
      expect(r.body.message).toContain('spec.numberOfIPs');
    } finally {
      await installCrds(kube);
    }
    const p = await kube.request<{ message: string }>('POST', '/apis/isthmus.io/v1alpha1/ippools', {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'IPPool',
      metadata: { name: `nosubnet-${ns}` },
      spec: {},
    });
    expect(p.status).toBe(422);
    expect(p.body.message).toContain('spec.subnet');
  });

  it('an informer lists, then sees add, update and delete from its watch', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('inf');
    await create(kube, `/api/v1/namespaces/${ns}/pods`, pod('before'));
    const inf = createInformer<Pod>({ kubeConfig: kube.kubeConfig, path: `/api/v1/namespaces/${ns}/pods` });
    const seen: string[] = [];
    inf.on('add', (o) => seen.push(`add ${o.metadata.name}`));
    inf.on('update', (o, old) =>
      seen.push(
        `update ${o.metadata.name} ${old?.metadata.annotations?.x ?? '-'}->${o.metadata.annotations?.x}`,
      ),
    );
    inf.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
    try {
      await inf.start();
      expect(inf.synced).toBe(true);
      expect(inf.list().map((p) => p.metadata.name)).toEqual(['before']);
      await create(kube, `/api/v1/namespaces/${ns}/pods`, pod('after'));
      await mergePatch(kube.kubeConfig, `/api/v1/namespaces/${ns}/pods/after`, {
        metadata: { annotations: { x: '1' } },
      });
      await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/before`);
      await until('the delete', () => seen.includes('delete before'));
      // Deleting may first set deletionTimestamp (an update) before the object goes.
      expect(seen.filter((s) => !s.startsWith('update before'))).toEqual([
        'add before',
        'add after',
        'update after -->1',
        'delete before',
      ]);
      expect(inf.get(`${ns}/after`)?.metadata.annotations).toEqual({ x: '1' });
      expect(inf.get(`${ns}/before`)).toBeUndefined();
      expect(inf.restarts).toBe(0);
    } finally {
      inf.stop();
    }
  });

  it('mergePatch at a stale resourceVersion: CONFLICT, unless already applied or retryIf agrees', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('write');
    const made = await create<Pod>(kube, `/api/v1/namespaces/${ns}/pods`, pod('p'));
    const path = `/api/v1/namespaces/${ns}/pods/p`;
    const stale = made.metadata.resourceVersion ?? '';
    await mergePatch(kube.kubeConfig, path, { metadata: { labels: { moved: 'yes' } } });
    const err = await mergePatch(
      kube.kubeConfig,
      path,
      { metadata: { annotations: { a: '1' } } },
      { resourceVersion: stale },
    ).catch((e) => e);
    expect(KubeError.isInstance(err) && err.code).toBe('CONFLICT');
    const ok = (await mergePatch(
      kube.kubeConfig,
      path,
      { metadata: { annotations: { a: '1' } } },
      { resourceVersion: stale, retryIf: () => true },
    )) as Pod;
    expect(ok.metadata.annotations).toEqual({ a: '1' });
    // Already as asked: the conflict resolves to success without a write.
    const same = (await mergePatch(
      kube.kubeConfig,
      path,
      { metadata: { annotations: { a: '1' } } },
      { resourceVersion: stale },
    )) as Pod;
    expect(same.metadata.resourceVersion).toBe(ok.metadata.resourceVersion);
  });

  it('updateStatus re-reads and retries when the object moved between read and write', async () => {
    const kube = getKube();
    const name = `pool-${Date.now().toString(36)}`;
    const path = `/apis/isthmus.io/v1alpha1/ippools/${name}`;
    const made = await create<{ metadata: { resourceVersion: string } }>(
      kube,
      '/apis/isthmus.io/v1alpha1/ippools',
      {
        apiVersion: 'isthmus.io/v1alpha1',
        kind: 'IPPool',
        metadata: { name },
        spec: { subnet: '10.9.0.0/24' },
      },
    );
    await kube.request('PATCH', path, { metadata: { labels: { bump: '1' } } });
    let calls = 0;
    const out = await updateStatus<{ metadata: { resourceVersion: string }; status?: { total?: string } }>(
      kube.kubeConfig,
      path,
      (cur) => {
        calls++;
        // The first write goes out at the version before the label change: the server must refuse it.
        const metadata =
          calls === 1 ? { ...cur.metadata, resourceVersion: made.metadata.resourceVersion } : cur.metadata;
        return { ...cur, metadata, status: { total: '254' } };
      },
    );
    expect(calls).toBe(2);
    expect(out?.status?.total).toBe('254');
    expect(await updateStatus(kube.kubeConfig, path, () => undefined)).toBeUndefined();
  });

  it('an event recorded twice is one Event with count 2', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('ev');
    const made = await create<Pod>(kube, `/api/v1/namespaces/${ns}/pods`, pod('p'));
    const rec = createEventRecorder(kube.kubeConfig, 'isthmus-test');
    const ref = { kind: 'Pod', apiVersion: 'v1', name: 'p', namespace: ns, uid: made.metadata.uid ?? '' };
    await rec.record(ref, 'Warning', 'PoolExhausted', 'pool "a" is exhausted');
    await rec.record(ref, 'Warning', 'PoolExhausted', 'pool "a" is exhausted');
    await rec.record(ref, 'Warning', 'UnknownPool', 'no pool "b"');
    const list = await kube.request<{
      items: {
        reason: string;
        count: number;
        involvedObject: { name: string; uid: string };
        source: { component: string };
      }[];
    }>('GET', `/api/v1/namespaces/${ns}/events`);
    const byReason = Object.fromEntries(list.body.items.map((e) => [e.reason, e]));
    expect(list.body.items).toHaveLength(2);
    expect(byReason.PoolExhausted?.count).toBe(2);
    expect(byReason.UnknownPool?.count).toBe(1);
    expect(byReason.PoolExhausted?.involvedObject).toMatchObject({ name: 'p', uid: made.metadata.uid });
    expect(byReason.PoolExhausted?.source.component).toBe('isthmus-test');
  });

  it('two electors on one Lease: one leads; stop() releases and the other takes over at once', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('lease');
    await ensureNamespace(kube, ns);
    const mk = (identity: string) =>
      createLeaderElector({
        kubeConfig: kube.kubeConfig,
        namespace: ns,
        name: 'isthmus-controller',
        identity,
        leaseDurationSeconds: 30,
      });
    const a = mk('a');
    const b = mk('b');
    expect(await a.tick()).toBe(true);
    expect(await b.tick()).toBe(false);
    expect(b.leader).toBe('a');
    await a.stop();
    const lease = await kube.request<{ spec: { holderIdentity: string; leaseDurationSeconds: number } }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/isthmus-controller`,
    );
    expect(lease.body.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(await b.tick()).toBe(true);
    expect(b.isLeader).toBe(true);
    await b.stop();
  });
});
