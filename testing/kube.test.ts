import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { describeKube, type Kube } from './kube';

interface Condition {
  type: string;
  status: string;
}
interface Obj {
  metadata: { name: string; resourceVersion?: string };
  status?: { conditions?: Condition[] };
}

/** Polls `check` until it returns true; the API server's caches (RBAC, CRD handlers) settle asynchronously. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describeKube('kube test harness (etcd + kube-apiserver)', (getKube) => {
  let kube: Kube;
  let ns: string;

  it('answers as the admin through a @kubernetes/client-node KubeConfig', async () => {
    kube = getKube();
    expect(kube.server).toMatch(/^https:\/\//);
    const version = await kube.request<{ gitVersion: string }>('GET', '/version');
    expect(version.status).toBe(200);
    if (!kube.external) expect(version.body.gitVersion).toBe('v1.20.2');
    ns = await kube.createTestNamespace('harness');
    expect(ns).toMatch(/^harness-[0-9a-f]{8}$/);
    const core = kube.kubeConfig.makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain(ns);
  });

  it('serves a structural CRD with a status subresource once Established, and validates it', async () => {
    const group = `t${randomBytes(4).toString('hex')}.isthmus.test`;
    const crdName = `widgets.${group}`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['size'],
                    properties: { size: { type: 'integer', minimum: 1, maximum: 10 } },
                  },
                  status: { type: 'object', properties: { ready: { type: 'boolean' } } },
                },
              },
            },
          },
        ],
      },
    };
    const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
    expect((await kube.request('POST', crds, crd)).status).toBe(201);
    try {
      await eventually('CRD Established', async () => {
        const r = await kube.request<Obj>('GET', `${crds}/${crdName}`);
        return (
          r.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false
        );
      });
      const base = `/apis/${group}/v1/namespaces/${ns}/widgets`;
      const widget = (name: string, size: unknown) => ({
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name },
        spec: { size },
      });
      // The discovery handler can trail Established by a moment.
      let created = await kube.request<Obj>('POST', base, widget('good', 3));
      await eventually('CR endpoint served', async () => {
        if (created.status === 404) created = await kube.request<Obj>('POST', base, widget('good', 3));
        return created.status !== 404;
      });
      expect(created.status).toBe(201);

      const tooBig = await kube.request<{ message: string }>('POST', base, widget('big', 11));
      expect(tooBig.status).toBe(422);
      expect(tooBig.body.message).toContain('spec.size');
      const notInt = await kube.request('POST', base, widget('text', 'three'));
      expect(notInt.status).toBe(422);
      expect((await kube.request('GET', `${base}/big`)).status).toBe(404);

      // Status goes through /status only; the main resource ignores it.
      const st = await kube.request<{ status?: { ready?: boolean } }>('PATCH', `${base}/good/status`, {
        status: { ready: true },
      });
      expect(st.status).toBe(200);
      expect(st.body.status?.ready).toBe(true);
      const main = await kube.request<{ status?: { ready?: boolean } }>('PATCH', `${base}/good`, {
        status: { ready: false },
      });
      expect(main.status).toBe(200);
      expect(main.body.status?.ready).toBe(true);
    } finally {
      await kube.request('DELETE', `${crds}/${crdName}`);
    }
  });

  it('stores coordination.k8s.io/v1 Leases with optimistic concurrency', async () => {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'elect' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    };
    const created = await kube.request<Obj & { spec: { holderIdentity: string } }>('POST', base, lease);
    expect(created.status).toBe(201);
    const rv = created.body.metadata.resourceVersion;
    const takeover = (holder: string) => ({
      ...lease,
      metadata: { name: 'elect', resourceVersion: rv },
      spec: { ...lease.spec, holderIdentity: holder },
    });
    const first = await kube.request<{ spec: { holderIdentity: string } }>(
      'PUT',
      `${base}/elect`,
      takeover('b'),
    );
    expect(first.status).toBe(200);
    expect(first.body.spec.holderIdentity).toBe('b');
    // A second writer with the same (now stale) resourceVersion loses.
    expect((await kube.request('PUT', `${base}/elect`, takeover('c'))).status).toBe(409);
  });

  it('serves the API groups of its version (1.20: no discovery.k8s.io/v1)', async () => {
    const version = await kube.request<{ minor: string }>('GET', '/version');
    const groups = await kube.request<{ groups: { name: string; versions: { version: string }[] }[] }>(
      'GET',
      '/apis',
    );
    const versionsOf = (g: string) =>
      groups.body.groups.find((x) => x.name === g)?.versions.map((v) => v.version) ?? [];
    expect(versionsOf('coordination.k8s.io')).toContain('v1');
    expect(versionsOf('apiextensions.k8s.io')).toContain('v1');
    const minor = Number.parseInt(version.body.minor, 10);
    expect(versionsOf('discovery.k8s.io').includes('v1')).toBe(minor >= 21);
    if (!kube.external) expect(versionsOf('discovery.k8s.io')).toEqual(['v1beta1']);
  });

  it('authenticates ServiceAccount tokens and enforces RBAC: forbidden until a RoleBinding allows', async () => {
    const sa = await kube.serviceAccountKubeConfig(ns, 'reader');
    const again = await kube.serviceAccountKubeConfig(ns, 'reader'); // an existing SA is reused
    expect(again.getCurrentUser()?.name).toBe(`system:serviceaccount:${ns}:reader`);
    const configmaps = `/api/v1/namespaces/${ns}/configmaps`;
    const denied = await kube.request<{ message: string }>('GET', configmaps, undefined, sa);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain(`system:serviceaccount:${ns}:reader`);

    const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}`;
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'read-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-reads-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    };
    expect((await kube.request('POST', `${rbac}/roles`, role)).status).toBe(201);
    expect((await kube.request('POST', `${rbac}/rolebindings`, binding)).status).toBe(201);
    await eventually(
      'RoleBinding effective',
      async () => (await kube.request('GET', configmaps, undefined, sa)).status === 200,
    );
    // Only what was granted: still no Secrets, and no writes.
    expect((await kube.request('GET', `/api/v1/namespaces/${ns}/secrets`, undefined, sa)).status).toBe(403);
    const write = await kube.request(
      'POST',
      configmaps,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      sa,
    );
    expect(write.status).toBe(403);
    // kubectl authenticates the same way.
    const can = await kube.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', ns], { kubeConfig: sa });
    expect(can.stdout.trim()).toBe('yes');
    const cannot = await kube.kubectl(['auth', 'can-i', 'list', 'secrets', '-n', ns], { kubeConfig: sa });
    expect(cannot.stdout.trim()).toBe('no');
  });

  it('writes a kubeconfig file only its owner can read', () => {
    const file = kube.kubeconfigFile();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('runs `kubectl apply --dry-run=server -f -` with a manifest, creating nothing', async () => {
    const manifest = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: dry
  namespace: ${ns}
data:
  a: "1"
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ${ns}
spec:
  selector:
    matchLabels: { app: agent }
  template:
    metadata:
      labels: { app: agent }
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: example.invalid/agent:1
          securityContext:
            capabilities: { add: [NET_ADMIN] }
`;
    const r = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('configmap/dry created (server dry run)');
    expect(r.stdout).toContain('daemonset.apps/agent created (server dry run)');
    expect((await kube.request('GET', `/api/v1/namespaces/${ns}/configmaps/dry`)).status).toBe(404);
    // The server validates: a Deployment without a selector is refused.
    const bad = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad, namespace: ${ns}}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x}]\n`,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/selector/i);
  });

  it('stop() ends etcd and kube-apiserver by pid and removes the temp dir; a second stop() is a no-op', async () => {
    const { etcd, apiserver } = kube.pids;
    if (!kube.external) {
      expect(etcd !== undefined && alive(etcd)).toBe(true);
      expect(apiserver !== undefined && alive(apiserver)).toBe(true);
    }
    expect(existsSync(kube.dir)).toBe(true);
    await kube.stop();
    if (!kube.external) {
      expect(alive(etcd!)).toBe(false);
      expect(alive(apiserver!)).toBe(false);
    }
    expect(existsSync(kube.dir)).toBe(false);
    if (kube.external) {
      // On a shared cluster the handle deletes the namespaces it made (they may linger as Terminating).
      const left = await kube.request<{ status?: { phase?: string } }>('GET', `/api/v1/namespaces/${ns}`);
      expect(left.status === 404 || left.body.status?.phase === 'Terminating').toBe(true);
    }
    await kube.stop();
  });
});
