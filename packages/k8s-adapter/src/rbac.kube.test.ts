// The controller and the node agent under the example's RBAC (examples/controller-deployment/rbac.yaml)
// and nothing more, each behind a recording proxy: every write path is driven (annotations, each kind's
// status, NodePlan create/update/delete, Event create and repeat, the Lease, the agent's status), no
// request is refused, and the permissions the requests needed are exactly what rbac.yaml grants.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeKube, type Kube } from '../../../testing/kube';
import { type Agent, startAgent } from './agent/agent';
import type { CommandRunner } from './agent/runner';
import { type Controller, startController } from './controller';
import { createLogger, silentLogger } from './log';
import { GLOBAL_IP_ANNOTATION, type NodePlan, POOL_ANNOTATION, POOL_IP_ANNOTATION } from './resources';
import { create, installCrds, installExampleRbac, until } from './test-support/kube-setup';
import {
  type ApiCall,
  permissionOf,
  permissionsUsed,
  type RecordingProxy,
  startRecordingProxy,
} from './test-support/rbac-audit';

const RBAC = fileURLToPath(new URL('../../../examples/controller-deployment/rbac.yaml', import.meta.url));
const CRD = '/apis/isthmus.io/v1alpha1';
type Item = {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  status?: Record<string, unknown>;
};
type Ev = { reason: string; count?: number; involvedObject: { kind: string; name: string } };
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const quiet = createLogger({ level: 'error' });

/** rbac.yaml's grants as "group|resource|verb", by "Kind/name" of the role. */
function grants(): Record<string, string[]> {
  const roles = (
    loadAllYaml(readFileSync(RBAC, 'utf8')) as { kind?: string; metadata: { name: string }; rules?: Rule[] }[]
  ).filter((d) => d?.kind === 'ClusterRole' || d?.kind === 'Role');
  return Object.fromEntries(
    roles.map((r) => [
      `${r.kind}/${r.metadata.name}`,
      (r.rules ?? [])
        .flatMap((rule) =>
          rule.apiGroups.flatMap((g) =>
            rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}|${res}|${v}`)),
          ),
        )
        .sort(),
    ]),
  );
}

// The agent runs where there is no kernel to change: every command fails, the same way each pass.
const noKernel: CommandRunner = async () => ({ code: 1, stdout: '', stderr: 'no kernel in this test' });

const conflict = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason: 'Conflict',
  code: 409,
  message: 'injected by the test: the object has been modified',
};

describeKube('controller and agent under the example RBAC', (getKube) => {
  let kube: Kube;
  let ns = '';
  let controllerKc: KubeConfig; // the ServiceAccount straight to the server (for the refusals)
  let controllerProxy: RecordingProxy;
  let agentProxy: RecordingProxy;
  let controller: Controller | undefined;
  let agent: Agent | undefined;
  // The first annotation patch of a pod and of a service meets a (injected) 409: mergePatch re-reads the object.
  const conflicted = new Set<string>();
  const fault = (method: string, url: string) => {
    const m = url.match(/^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)\/[^/?]+/);
    if (method !== 'PATCH' || !m || m[1] !== ns || conflicted.has(m[2] ?? '')) return undefined;
    conflicted.add(m[2] ?? '');
    return { status: 409, body: conflict };
  };

  beforeAll(async () => {
    kube = getKube();
    await installCrds(kube);
    const applied = await installExampleRbac(kube);
    expect(applied.stderr).toBe('');
    controllerKc = await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-controller');
    controllerProxy = await startRecordingProxy(kube.kubeConfig, fault);
    agentProxy = await startRecordingProxy(kube.kubeConfig);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await controller?.stop();
    await controllerProxy?.close();
    await agentProxy?.close();
  });

  it('the controller runs as isthmus-controller: leads, annotates, writes every status, NodePlans and Events, with no Forbidden', async () => {
    ns = await kube.createTestNamespace('rbac');
    await create(kube, `${CRD}/clustersetmembers`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'ClusterSetMember',
      metadata: { name: 'east' },
      spec: {
        clusterID: 'east',
        podCIDRs: ['10.244.0.0/16'],
        serviceCIDRs: ['10.96.0.0/12'],
        mode: 'gateway',
      },
    });
    for (const [i, gw] of [
      [1, true],
      [2, false],
    ] as const) {
      await create(kube, '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: `node-${i}`, labels: gw ? { 'isthmus.io/gateway': 'true' } : {} },
        spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`] },
      });
      await kube.request('PATCH', `/api/v1/nodes/node-${i}/status`, {
        status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${i}` }] },
      });
    }
    await create(kube, `/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ port: 80 }] },
    });
    await create(kube, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceExport',
      metadata: { name: 'web' },
    });
    await create(kube, `${CRD}/namespaces/${ns}/globalegressips`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'GlobalEgressIP',
      metadata: { name: 'ns-egress' },
      spec: { numberOfIPs: 2 },
    });
    await create(kube, `${CRD}/clusterglobalegressips`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'ClusterGlobalEgressIP',
      metadata: { name: 'cluster-egress' },
      spec: { numberOfIPs: 1 },
    });
    await create(kube, `${CRD}/ippools`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'IPPool',
      metadata: { name: 'small' },
      spec: { subnet: '10.50.0.0/29' },
    });
    await create(kube, `${CRD}/ippools`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'IPPool',
      metadata: { name: 'broken' },
      spec: { subnet: 'not-a-cidr' },
    });
    for (const [name, pool] of [
      ['asks', 'missing'],
      ['served', 'small'],
    ])
      await create(kube, `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, annotations: { [POOL_ANNOTATION]: pool } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });

    controller = await startController({
      kubeConfig: controllerProxy.kubeConfig(controllerKc),
      config: { clusterID: 'east' },
      identity: 'rbac-replica',
      logger: quiet,
    });
    await until('leading and ready', () => controller?.isLeader && controller.ready, 60_000);
    const get = async (path: string) => (await kube.request<Item>('GET', path)).body;
    // Annotation patches, each after an injected 409 (pods/services patch + get).
    await until(
      'service annotated',
      async () =>
        (await get(`/api/v1/namespaces/${ns}/services/web`)).metadata.annotations?.[GLOBAL_IP_ANNOTATION],
    );
    await until(
      'pool address',
      async () =>
        (await get(`/api/v1/namespaces/${ns}/pods/served`)).metadata.annotations?.[POOL_IP_ANNOTATION],
    );
    expect([...conflicted].sort()).toEqual(['pods', 'services']);
    // The status of each of the four kinds (get + */status update).
    const statuses: [string, (s: Record<string, unknown>) => boolean][] = [
      [`${CRD}/namespaces/${ns}/globalegressips/ns-egress`, (s) => (s.allocatedIPs as string[]).length === 2],
      [`${CRD}/clusterglobalegressips/cluster-egress`, (s) => (s.allocatedIPs as string[]).length === 1],
      [`${CRD}/ippools/small`, (s) => s.allocated === '1'],
      [`${CRD}/clustersetmembers/east`, (s) => typeof s.globalCIDR === 'string'],
    ];
    for (const [path, done] of statuses) {
      await until(`status of ${path}`, async () => {
        const s = (await get(path)).status;
        return s !== undefined && done(s);
      });
    }
    // NodePlans: created, updated when a node moves, deleted when it leaves.
    const plans = async () =>
      (await kube.request<{ items: NodePlan[] }>('GET', `${CRD}/nodeplans`)).body.items
        .map((p) => p.metadata.name)
        .sort();
    await until('two NodePlans', async () => (await plans()).length === 2, 30_000);
    expect(await plans()).toEqual(['node-1', 'node-2']);
    await kube.request('PATCH', '/api/v1/nodes/node-2/status', {
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.22' }] },
    });
    await until(
      'a NodePlan replaced',
      () => controllerProxy.calls.some((c) => c.method === 'PUT' && c.url.startsWith(`${CRD}/nodeplans/`)),
      30_000,
    );
    expect((await kube.request('DELETE', '/api/v1/nodes/node-2')).status).toBe(200);
    await until('node-2 plan deleted', async () => (await plans()).join() === 'node-1', 30_000);
    // Events: created, and a repeat of one bumps its count (events patch).
    const events = async (namespace: string) =>
      (await kube.request<{ items: Ev[] }>('GET', `/api/v1/namespaces/${namespace}/events`)).body.items;
    await until('pod event', async () => (await events(ns)).some((e) => e.reason === 'UnknownPool'));
    const invalid = () =>
      events('default').then((es) =>
        es.find((e) => e.involvedObject.name === 'broken' && e.reason === 'InvalidSpec'),
      );
    await until('InvalidSpec event', invalid);
    await kube.request('PATCH', `${CRD}/ippools/broken`, { metadata: { labels: { seen: 'again' } } });
    await until('InvalidSpec repeated', async () => ((await invalid())?.count ?? 0) >= 2);

    const lease = await kube.request<{ spec: { holderIdentity: string } }>(
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/isthmus-system/leases/isthmus-controller',
    );
    expect(lease.body.spec.holderIdentity).toBe('rbac-replica');
    const metrics = await controller.metrics.registry.metrics();
    expect(metrics).not.toMatch(/isthmus_errors_total\{reason="Write(FORBIDDEN|HTTP_ERROR)"\}/);
    expect(metrics).not.toMatch(/isthmus_watch_restarts_total\{resource="[a-z]+"\} [1-9]/);
    expect(refused(controllerProxy.calls)).toEqual([]);

    // And nothing more: what the role does not grant is refused.
    const denied = [
      await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/asks`, undefined, controllerKc),
      await kube.request('GET', `/api/v1/namespaces/${ns}/secrets`, undefined, controllerKc),
      await kube.request('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { x: 'y' } } }, controllerKc),
      await kube.request(
        'PATCH',
        `${CRD}/namespaces/${ns}/globalegressips/ns-egress`,
        { spec: { numberOfIPs: 3 } },
        controllerKc,
      ),
      await kube.request('PATCH', `${CRD}/ippools/small/status`, { status: { free: '0' } }, controllerKc),
      await kube.request(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
        undefined,
        controllerKc,
      ),
    ].map((r) => r.status);
    expect(denied).toEqual([403, 403, 403, 403, 403, 403]);
  }, 200_000);

  it('the agent runs as isthmus-agent: reads its NodePlan, writes its status, records and repeats Events, with no Forbidden', async () => {
    const agentKc = await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-agent');
    agent = await startAgent({
      kubeConfig: agentProxy.kubeConfig(agentKc),
      nodeName: 'node-1',
      run: noKernel,
      retryMs: 50,
      resyncMs: 0,
      logger: silentLogger, // every pass fails, by design
    });
    await until('status error reported', async () => {
      const plan = (await kube.request<Item>('GET', `${CRD}/nodeplans/node-1`)).body;
      return typeof plan.status?.error === 'string';
    });
    await until('a failed pass repeated as one Event', async () =>
      (await kube.request<{ items: Ev[] }>('GET', '/api/v1/namespaces/default/events')).body.items.some(
        (e) =>
          e.involvedObject.kind === 'NodePlan' && e.involvedObject.name === 'node-1' && (e.count ?? 0) >= 2,
      ),
    );
    expect(refused(agentProxy.calls)).toEqual([]);
    const denied = [
      await kube.request('DELETE', `${CRD}/nodeplans/node-1`, undefined, agentKc),
      await kube.request('PATCH', `${CRD}/nodeplans/node-1`, { spec: { node: 'x' } }, agentKc),
      await kube.request('GET', '/api/v1/pods', undefined, agentKc),
    ].map((r) => r.status);
    expect(denied).toEqual([403, 403, 403]);
  }, 120_000);

  it("the requests made need exactly rbac.yaml's grants: nothing refused, nothing granted that is never used", async () => {
    await agent?.stop();
    await controller?.stop(); // releases the Lease (an update) too
    const ctl = controllerProxy.calls;
    const isLease = (c: ApiCall) => permissionOf(c.method, c.url)?.group === 'coordination.k8s.io';
    const leaseCalls = ctl.filter(isLease);
    expect(new Set(leaseCalls.map((c) => permissionOf(c.method, c.url)?.namespace))).toEqual(
      new Set(['isthmus-system']),
    );
    // EndpointSlices are watched only where discovery.k8s.io/v1 is served (not on 1.20).
    const unserved: string[] = [];
    if (!controller?.endpointSlices) {
      expect(ctl.some((c) => c.url === '/apis/discovery.k8s.io/v1' && c.status === 404)).toBe(true);
      unserved.push('discovery.k8s.io|endpointslices|list', 'discovery.k8s.io|endpointslices|watch');
    }
    const granted = grants();
    expect(Object.keys(granted).sort()).toEqual([
      'ClusterRole/isthmus-agent',
      'ClusterRole/isthmus-controller',
      'Role/isthmus-controller-lease',
    ]);
    expect(granted['ClusterRole/isthmus-controller']).toEqual(
      [...permissionsUsed(ctl.filter((c) => !isLease(c))), ...unserved].sort(),
    );
    expect(granted['Role/isthmus-controller-lease']).toEqual(permissionsUsed(leaseCalls));
    expect(granted['ClusterRole/isthmus-agent']).toEqual(permissionsUsed(agentProxy.calls));
    expect(refused([...ctl, ...agentProxy.calls])).toEqual([]);
  }, 60_000);
});

/** The calls the server refused for want of rights. */
function refused(calls: readonly ApiCall[]): string[] {
  return calls
    .filter((c) => c.status === 401 || c.status === 403)
    .map((c) => `${c.method} ${c.url} ${c.status}`);
}
