// The controller in-process against a real API server: global IPs at scale, release on deletion, bad input.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeKube, type Kube } from '../../../testing/kube';
import { type Controller, startController } from './controller';
import { createLogger } from './log';
import { GLOBAL_IP_ANNOTATION, POOL_ANNOTATION, POOL_IP_ANNOTATION } from './resources';
import { create, inParallel, installCrdYaml, until } from './test-support/kube-setup';

const SHIPPED_CRDS = fileURLToPath(
  new URL('../../../examples/controller-deployment/crds.yaml', import.meta.url),
);

type Meta = { name: string; namespace?: string; annotations?: Record<string, string>; uid?: string };
type Item = { metadata: Meta; status?: Record<string, unknown>; spec?: Record<string, unknown> };
type Ev = {
  reason: string;
  type: string;
  involvedObject: { kind: string; name: string; namespace?: string };
  message: string;
};

const GLOBAL_CIDR_PREFIX = '242.'; // the default global range 242.0.0.0/8
const quiet = createLogger({ level: 'error' });

async function list(kube: Kube, path: string): Promise<Item[]> {
  const r = await kube.request<{ items: Item[] }>('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
  return r.body.items;
}

const svc = (name: string, headless: boolean, annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  spec: headless
    ? { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] }
    : { selector: { app: name }, ports: [{ port: 80 }] },
});
const exp = (name: string) => ({
  apiVersion: 'multicluster.x-k8s.io/v1alpha1',
  kind: 'ServiceExport',
  metadata: { name },
});
const pod = (name: string, labels: Record<string, string>, annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels, ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

/** Every global IP in the namespaces, by owner; fails on an IP with two owners. */
async function globalIps(kube: Kube, namespaces: string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const ns of namespaces) {
    for (const kind of ['services', 'pods']) {
      for (const o of await list(kube, `/api/v1/namespaces/${ns}/${kind}`)) {
        const ip = o.metadata.annotations?.[GLOBAL_IP_ANNOTATION];
        if (ip === undefined) continue;
        const owner = `${kind}/${ns}/${o.metadata.name}`;
        const prev = owners.get(ip);
        if (prev !== undefined) throw new Error(`global IP ${ip} has two owners: ${prev} and ${owner}`);
        owners.set(ip, owner);
      }
    }
  }
  return owners;
}

describeKube('controller against a real API server', (getKube) => {
  let controller: Controller | undefined;
  let leaseNs = '';
  afterAll(async () => {
    await controller?.stop();
  });

  it('starts, leads, allots the local global CIDR and is ready (no EndpointSlices on 1.20)', async () => {
    const kube = getKube();
    // The CRDs as shipped (examples/controller-deployment/crds.yaml): numberOfIPs 21 must reach the
    // controller, whose Event + condition the bad-input test checks.
    await installCrdYaml(kube, readFileSync(SHIPPED_CRDS, 'utf8'));
    leaseNs = await kube.createTestNamespace('ctl');
    await create(kube, '/apis/isthmus.io/v1alpha1/clustersetmembers', {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'ClusterSetMember',
      metadata: { name: 'east' },
      spec: { clusterID: 'east', podCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/12'] },
    });
    controller = await startController({
      kubeConfig: kube.kubeConfig,
      config: { clusterID: 'east' },
      leaseNamespace: leaseNs,
      identity: 'ctl-a',
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      logger: quiet,
    });
    await until('leader and ready', () => controller?.isLeader && controller.ready, 30_000);
    const member = await until('global CIDR allotted', async () => {
      const r = await kube.request<Item>('GET', '/apis/isthmus.io/v1alpha1/clustersetmembers/east');
      return (r.body.status?.globalCIDR as string | undefined) ?? false;
    });
    expect(member).toMatch(/^242\.\d+\.0\.0\/16$/);
    expect(controller.endpointSlices).toBe(false);
    const readyz = await fetch(`http://127.0.0.1:${controller.metricsPort}/readyz`);
    expect(readyz.status).toBe(200);
  });

  it('1,000 pods behind 20 exported headless services and 200 exported ClusterIP services get unique global IPs', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('scale');
    const jobs: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < 200; i++) {
      jobs.push(() => create(kube, `/api/v1/namespaces/${ns}/services`, svc(`svc-${i}`, false)));
      jobs.push(() =>
        create(kube, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`, exp(`svc-${i}`)),
      );
    }
    for (let h = 0; h < 20; h++) {
      jobs.push(() => create(kube, `/api/v1/namespaces/${ns}/services`, svc(`hl-${h}`, true)));
      jobs.push(() =>
        create(kube, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`, exp(`hl-${h}`)),
      );
      for (let p = 0; p < 50; p++)
        jobs.push(() =>
          create(kube, `/api/v1/namespaces/${ns}/pods`, pod(`hl-${h}-${p}`, { app: `hl-${h}` })),
        );
    }
    // An unexported service and a pod behind no exported service get nothing.
    jobs.push(() => create(kube, `/api/v1/namespaces/${ns}/services`, svc('private', false)));
    jobs.push(() => create(kube, `/api/v1/namespaces/${ns}/pods`, pod('loner', { app: 'none' })));
    await inParallel(16, jobs);
    const owners = await until(
      '1,200 global IPs',
      async () => {
        const o = await globalIps(kube, [ns]);
        return o.size === 1200 ? o : false;
      },
      180_000,
      1_000,
    );
    const byKind = [...owners.values()].reduce<Record<string, number>>((acc, o) => {
      const k = o.split('/')[0] ?? '';
      acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    }, {});
    expect(byKind).toEqual({ services: 200, pods: 1000 });
    for (const ip of owners.keys()) expect(ip.startsWith(GLOBAL_CIDR_PREFIX)).toBe(true);
    expect([...owners.values()]).not.toContain(`services/${ns}/private`);
    expect([...owners.values()]).not.toContain(`pods/${ns}/loner`);
    // The controller's own view agrees with what it wrote.
    expect(controller?.reconciler?.globalIpOf('service', ns, 'svc-7')).toBe(
      [...owners].find(([, o]) => o === `services/${ns}/svc-7`)?.[0],
    );
    const metrics = await (await fetch(`http://127.0.0.1:${controller?.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/isthmus_allocations_total\{kind="pod"\} (\d+)/);
    expect(Number(/isthmus_allocations_total\{kind="pod"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      1000,
    );
    expect(metrics).toContain('isthmus_reconcile_duration_seconds_count');

    // Garbage collection: deleting objects releases their IPs; new objects reuse the space without collisions.
    const before = controller?.reconciler?.stats().globalIps ?? 0;
    const dels: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < 100; i++)
      dels.push(() => kube.request('DELETE', `/api/v1/namespaces/${ns}/services/svc-${i}`));
    for (let p = 0; p < 50; p++)
      dels.push(() => kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/hl-0-${p}?gracePeriodSeconds=0`));
    await inParallel(16, dels);
    await until('IPs released', () => controller?.reconciler?.stats().globalIps === before - 150, 60_000);
    for (let i = 200; i < 260; i++) {
      await create(kube, `/api/v1/namespaces/${ns}/services`, svc(`svc-${i}`, false));
      await create(
        kube,
        `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`,
        exp(`svc-${i}`),
      );
    }
    const after = await until(
      '1,110 global IPs',
      async () => {
        const o = await globalIps(kube, [ns]);
        return o.size === 1110 ? o : false;
      },
      60_000,
      500,
    );
    expect(after.size).toBe(controller?.reconciler?.stats().globalIps);
  }, 400_000);

  it('unexporting a service removes its global IP annotation and releases the IP', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('unexp');
    await create(kube, `/api/v1/namespaces/${ns}/services`, svc('web', false));
    await create(kube, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`, exp('web'));
    const ip = await until(
      'annotated',
      async () =>
        (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/services/web`)).body.metadata
          .annotations?.[GLOBAL_IP_ANNOTATION],
    );
    expect(controller?.reconciler?.globalIpOf('service', ns, 'web')).toBe(ip);
    await kube.request('DELETE', `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports/web`);
    await until(
      'annotation removed',
      async () =>
        (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/services/web`)).body.metadata
          .annotations?.[GLOBAL_IP_ANNOTATION] === undefined,
    );
    expect(controller?.reconciler?.globalIpOf('service', ns, 'web')).toBeUndefined();
  });

  it('bad input becomes Events and conditions, and the controller keeps serving', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('bad');
    const pools = '/apis/isthmus.io/v1alpha1/ippools';
    const tiny = `tiny-${ns}`;
    // A /30 has two host addresses: the third pod finds it exhausted.
    await create(kube, pools, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'IPPool',
      metadata: { name: tiny },
      spec: { subnet: '10.77.0.0/30' },
    });
    for (const p of ['p1', 'p2', 'p3']) {
      await create(kube, `/api/v1/namespaces/${ns}/pods`, pod(p, { app: 'x' }, { [POOL_ANNOTATION]: tiny }));
      // One at a time, so which pod misses out is certain.
      if (p !== 'p3')
        await until(
          `${p} served`,
          async () =>
            (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/pods/${p}`)).body.metadata
              .annotations?.[POOL_IP_ANNOTATION],
        );
    }
    await create(
      kube,
      `/api/v1/namespaces/${ns}/pods`,
      pod('lost', { app: 'x' }, { [POOL_ANNOTATION]: 'no-such-pool' }),
    );
    await create(kube, `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'GlobalEgressIP',
      metadata: { name: 'greedy' },
      spec: { numberOfIPs: 21 },
    });
    const events = async () =>
      (await kube.request<{ items: Ev[] }>('GET', `/api/v1/namespaces/${ns}/events`)).body.items;
    const defaultEvents = async () =>
      (await kube.request<{ items: Ev[] }>('GET', '/api/v1/namespaces/default/events')).body.items.filter(
        (e) => e.involvedObject.name === tiny,
      );
    await until(
      'events for p3, lost and greedy',
      async () => {
        const rs = new Set((await events()).map((e) => `${e.involvedObject.name}:${e.reason}`));
        return (
          rs.has('p3:PoolExhausted') && rs.has('lost:UnknownPool') && rs.has('greedy:InvalidNumberOfIPs')
        );
      },
      30_000,
    );
    expect((await events()).every((e) => e.type === 'Warning')).toBe(true);
    // Conditions: on the pool and on the egress object; the pods carry the reason in an annotation.
    const pool = await until('pool status', async () => {
      const r = (await kube.request<Item>('GET', `${pools}/${tiny}`)).body;
      const conds = (r.status?.conditions ?? []) as { type: string; status: string }[];
      return conds.some((c) => c.type === 'Exhausted' && c.status === 'True') ? r : false;
    });
    expect(pool.status).toMatchObject({ total: '2', allocated: '2', free: '0' });
    expect((await defaultEvents()).map((e) => e.reason)).toContain('PoolExhausted');
    const greedy = await until('egress condition', async () => {
      const r = (
        await kube.request<Item>('GET', `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips/greedy`)
      ).body;
      const conds = (r.status?.conditions ?? []) as { reason: string; status: string }[];
      return conds.find((c) => c.reason === 'InvalidNumberOfIPs');
    });
    expect(greedy.status).toBe('False');
    const lost = (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/pods/lost`)).body;
    expect(lost.metadata.annotations?.['isthmus.io/ippool-error']).toContain('no-such-pool');

    // It keeps running and loses nothing: freeing an address serves the waiting pod; fixing the count serves the scope.
    await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/p1?gracePeriodSeconds=0`);
    const p3ip = await until(
      'p3 served after p1 left',
      async () =>
        (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/pods/p3`)).body.metadata.annotations?.[
          POOL_IP_ANNOTATION
        ],
    );
    const p2ip = (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/pods/p2`)).body.metadata
      .annotations?.[POOL_IP_ANNOTATION];
    expect(p3ip).not.toBe(p2ip);
    await kube.request('PATCH', `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips/greedy`, {
      spec: { numberOfIPs: 4 },
    });
    const ips = await until('egress block allotted', async () => {
      const r = (
        await kube.request<Item>('GET', `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips/greedy`)
      ).body;
      const a = r.status?.allocatedIPs as string[] | undefined;
      return a && a.length === 4 ? a : false;
    });
    expect(ips.every((ip) => ip.startsWith(GLOBAL_CIDR_PREFIX))).toBe(true);
    expect(controller?.isLeader).toBe(true);
  });

  it('a malformed global-ip annotation found at startup is an Event, and the object gets a valid IP', async () => {
    const kube = getKube();
    const ns = await kube.createTestNamespace('malf');
    await controller?.stop();
    controller = undefined;
    await create(
      kube,
      `/api/v1/namespaces/${ns}/services`,
      svc('odd', false, { [GLOBAL_IP_ANNOTATION]: '242.0.0.999' }),
    );
    await create(kube, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`, exp('odd'));
    controller = await startController({
      kubeConfig: kube.kubeConfig,
      config: { clusterID: 'east' },
      leaseNamespace: leaseNs,
      identity: 'ctl-b',
      logger: quiet,
    });
    const ip = await until(
      'valid IP',
      async () => {
        const a = (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/services/odd`)).body.metadata
          .annotations?.[GLOBAL_IP_ANNOTATION];
        return a !== undefined && /^242\.\d+\.\d+\.\d+$/.test(a) && a !== '242.0.0.999' ? a : false;
      },
      60_000,
    );
    expect(ip).toMatch(/^242\./);
    const evs = (await kube.request<{ items: Ev[] }>('GET', `/api/v1/namespaces/${ns}/events`)).body.items;
    expect(evs.map((e) => `${e.involvedObject.name}:${e.reason}`)).toContain('odd:InvalidAnnotation');
  });
});
