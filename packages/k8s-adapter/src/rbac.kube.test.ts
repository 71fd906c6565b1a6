// The controller under the example's RBAC (examples/controller-deployment/rbac.yaml) and nothing more.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeKube } from '../../../testing/kube';
import { type Controller, startController } from './controller';
import { createLogger } from './log';
import { GLOBAL_IP_ANNOTATION, type NodePlan } from './resources';
import { create, ensureNamespace, installCrds, until } from './test-support/kube-setup';

const RBAC = fileURLToPath(new URL('../../../examples/controller-deployment/rbac.yaml', import.meta.url));
type Item = {
  metadata: { name: string; annotations?: Record<string, string> };
  status?: Record<string, unknown>;
};

describeKube('controller under the example RBAC', (getKube) => {
  let controller: Controller | undefined;
  afterAll(async () => {
    await controller?.stop();
  });

  it('runs as the isthmus-controller ServiceAccount: leads, annotates, writes status, NodePlans and Events, with no Forbidden', async () => {
    const kube = getKube();
    await installCrds(kube);
    await ensureNamespace(kube, 'isthmus-system');
    const applied = await kube.kubectl(['apply', '-f', '-'], { input: readFileSync(RBAC, 'utf8') });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const kc = await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-controller');
    const ns = await kube.createTestNamespace('rbac');
    await create(kube, '/apis/isthmus.io/v1alpha1/clustersetmembers', {
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
    await create(kube, `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips`, {
      apiVersion: 'isthmus.io/v1alpha1',
      kind: 'GlobalEgressIP',
      metadata: { name: 'ns-egress' },
      spec: { numberOfIPs: 2 },
    });
    await create(kube, `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'asks', annotations: { 'isthmus.io/ippool': 'missing' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });

    controller = await startController({
      kubeConfig: kc,
      config: { clusterID: 'east' },
      identity: 'rbac-replica',
      logger: createLogger({ level: 'error' }),
    });
    await until('leading and ready', () => controller?.isLeader && controller.ready, 60_000);
    // Annotation patch (pods/services patch), status update (isthmus.io */status), NodePlans (create), Events (create).
    await until(
      'service annotated',
      async () =>
        (await kube.request<Item>('GET', `/api/v1/namespaces/${ns}/services/web`)).body.metadata
          .annotations?.[GLOBAL_IP_ANNOTATION],
    );
    await until(
      'egress status',
      async () =>
        (
          (
            await kube.request<Item>(
              'GET',
              `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips/ns-egress`,
            )
          ).body.status?.allocatedIPs as string[] | undefined
        )?.length === 2,
    );
    await until(
      'member status',
      async () =>
        (await kube.request<Item>('GET', '/apis/isthmus.io/v1alpha1/clustersetmembers/east')).body.status
          ?.globalCIDR,
    );
    const plans = await until(
      'two NodePlans',
      async () => {
        const r = await kube.request<{ items: NodePlan[] }>('GET', '/apis/isthmus.io/v1alpha1/nodeplans');
        return r.body.items.length === 2 ? r.body.items : false;
      },
      30_000,
    );
    expect(plans.map((p) => p.spec.node).sort()).toEqual(['node-1', 'node-2']);
    await until('pod event', async () =>
      (
        await kube.request<{ items: { reason: string }[] }>('GET', `/api/v1/namespaces/${ns}/events`)
      ).body.items.some((e) => e.reason === 'UnknownPool'),
    );
    const lease = await kube.request<{ spec: { holderIdentity: string } }>(
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/isthmus-system/leases/isthmus-controller',
    );
    expect(lease.body.spec.holderIdentity).toBe('rbac-replica');
    const metrics = await controller.metrics.registry.metrics();
    expect(metrics).not.toMatch(/isthmus_errors_total\{reason="Write(FORBIDDEN|HTTP_ERROR)"\}/);
    expect(metrics).not.toMatch(/isthmus_watch_restarts_total\{resource="[a-z]+"\} [1-9]/);

    // And nothing more: what the role does not grant is refused.
    const denied = [
      await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/asks`, undefined, kc),
      await kube.request('GET', `/api/v1/namespaces/${ns}/secrets`, undefined, kc),
      await kube.request('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { x: 'y' } } }, kc),
      await kube.request(
        'PATCH',
        `/apis/isthmus.io/v1alpha1/namespaces/${ns}/globalegressips/ns-egress`,
        { spec: { numberOfIPs: 3 } },
        kc,
      ),
      await kube.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, undefined, kc),
    ].map((r) => r.status);
    expect(denied).toEqual([403, 403, 403, 403, 403]);
  }, 200_000);
});
