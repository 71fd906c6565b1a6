// The example deployment: static checks of the manifests (CRDs generated, least-privilege RBAC exactly as
// the k8s-adapter contract lists it, no wildcards) and `kubectl apply --dry-run=server` of every manifest
// against a real API server.
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeKube, type Kube } from '../testing/kube';
import { CRDS_FILE, crdsYaml } from './controller-deployment/generate-crds';

const DIR = new URL('./controller-deployment/', import.meta.url);
const MANIFESTS = [
  'namespace.yaml',
  'crds.yaml',
  'rbac.yaml',
  'controller.yaml',
  'agent.yaml',
  'services.yaml',
] as const;
const text = (f: string) => readFileSync(new URL(f, DIR), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents
const docs = (f: string): any[] => loadAllYaml(text(f)).filter((d) => d !== null);

/**
 * The RBAC the README lists, as "group|resource|verb" per role. packages/k8s-adapter/src/rbac.kube.test.ts
 * derives the same set from the requests the controller and the agent really make.
 */
const CONTRACT: Record<string, string[]> = {
  'ClusterRole/isthmus-controller': [
    // Annotation merge patches; after a 409 the object is read again (get).
    ...['pods', 'services'].flatMap((r) => ['get', 'list', 'watch', 'patch'].map((v) => `|${r}|${v}`)),
    ...['endpoints', 'namespaces', 'nodes'].flatMap((r) => ['list', 'watch'].map((v) => `|${r}|${v}`)),
    '|events|create',
    '|events|patch',
    ...['list', 'watch'].map((v) => `discovery.k8s.io|endpointslices|${v}`),
    ...['list', 'watch'].map((v) => `multicluster.x-k8s.io|serviceexports|${v}`),
    // updateStatus: GET the object, PUT its /status.
    ...['ippools', 'globalegressips', 'clusterglobalegressips', 'clustersetmembers'].flatMap((r) => [
      ...['get', 'list', 'watch'].map((v) => `isthmus.io|${r}|${v}`),
      `isthmus.io|${r}/status|update`,
    ]),
    ...['list', 'watch', 'create', 'update', 'delete'].map((v) => `isthmus.io|nodeplans|${v}`),
  ],
  'Role/isthmus-controller-lease': ['get', 'create', 'update'].map((v) => `coordination.k8s.io|leases|${v}`),
  'ClusterRole/isthmus-agent': [
    ...['get', 'list', 'watch'].map((v) => `isthmus.io|nodeplans|${v}`),
    'isthmus.io|nodeplans/status|update',
    '|events|create',
    '|events|patch',
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML rules
function triples(rules: any[]): string[] {
  return rules.flatMap((r) =>
    (r.apiGroups as string[]).flatMap((g) =>
      (r.resources as string[]).flatMap((res) => (r.verbs as string[]).map((v) => `${g}|${res}|${v}`)),
    ),
  );
}

describe('examples/controller-deployment: static checks', () => {
  it('crds.yaml is exactly what renderCrdYaml() generates (with the ServiceExport CRD)', () => {
    expect(readFileSync(CRDS_FILE, 'utf8')).toBe(crdsYaml());
    expect(docs('crds.yaml').map((d) => d.metadata.name)).toEqual([
      'ippools.isthmus.io',
      'globalegressips.isthmus.io',
      'clusterglobalegressips.isthmus.io',
      'clustersetmembers.isthmus.io',
      'nodeplans.isthmus.io',
      'serviceexports.multicluster.x-k8s.io',
    ]);
  });

  it("rbac.yaml grants exactly the contract's verbs and resources, with no wildcard and nothing else", () => {
    const roles = docs('rbac.yaml').filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
    expect(roles.map((r) => `${r.kind}/${r.metadata.name}`).sort()).toEqual(Object.keys(CONTRACT).sort());
    for (const role of roles) {
      const key = `${role.kind}/${role.metadata.name}`;
      for (const rule of role.rules) {
        expect(Object.keys(rule).sort(), key).toEqual(['apiGroups', 'resources', 'verbs']);
        for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field], key).not.toContain('*');
        expect(JSON.stringify(rule), key).not.toContain('*');
      }
      const got = triples(role.rules);
      expect(new Set(got).size, `${key} lists a permission twice`).toBe(got.length);
      expect(got.sort(), key).toEqual([...CONTRACT[key]!].sort());
    }
    expect(roles.find((r) => r.kind === 'Role')?.metadata.namespace).toBe('isthmus-system');
  });

  it('each role is bound to its ServiceAccount in isthmus-system, and to nobody else', () => {
    const all = docs('rbac.yaml');
    const bindings = all.filter((d) => d.kind.endsWith('Binding'));
    const sa = (b: (typeof bindings)[number]) =>
      b.subjects.map(
        (s: { kind: string; namespace: string; name: string }) => `${s.kind}:${s.namespace}/${s.name}`,
      );
    const by = Object.fromEntries(bindings.map((b) => [`${b.roleRef.kind}/${b.roleRef.name}`, sa(b)]));
    expect(by).toEqual({
      'ClusterRole/isthmus-controller': ['ServiceAccount:isthmus-system/isthmus-controller'],
      'Role/isthmus-controller-lease': ['ServiceAccount:isthmus-system/isthmus-controller'],
      'ClusterRole/isthmus-agent': ['ServiceAccount:isthmus-system/isthmus-agent'],
    });
    expect(all.filter((d) => d.kind === 'ServiceAccount').map((d) => d.metadata.name)).toEqual([
      'isthmus-controller',
      'isthmus-agent',
    ]);
  });

  it('the controller runs 2 replicas with /healthz and /readyz probes and a metrics port the Service targets', () => {
    const [dep] = docs('controller.yaml');
    expect(dep.kind).toBe('Deployment');
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0];
    expect(c.args).toEqual(['controller']);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(dep.spec.template.spec.serviceAccountName).toBe('isthmus-controller');
    const svc = docs('services.yaml').find((d) => d.metadata.name === 'isthmus-controller-metrics');
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
    expect(c.ports.map((p: { name: string }) => p.name)).toContain(svc.spec.ports[0].targetPort);
  });

  it('the agent DaemonSet: host network, NET_ADMIN + NET_RAW only, NODE_NAME from the downward API, wireguard and key dirs mounted', () => {
    const [ds] = docs('agent.yaml');
    expect(ds.kind).toBe('DaemonSet');
    const spec = ds.spec.template.spec;
    expect(spec.hostNetwork).toBe(true);
    expect(spec.serviceAccountName).toBe('isthmus-agent');
    const c = spec.containers[0];
    expect(c.args).toEqual(['agent']);
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
    expect(c.securityContext.privileged).toBeUndefined();
    expect(c.env.find((e: { name: string }) => e.name === 'NODE_NAME').valueFrom).toEqual({
      fieldRef: { fieldPath: 'spec.nodeName' },
    });
    const mounts = Object.fromEntries(
      c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]),
    );
    const paths = Object.fromEntries(
      spec.volumes.map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]),
    );
    expect(paths[mounts['/var/run/wireguard']]).toBe('/var/run/wireguard');
    expect(paths[mounts['/etc/isthmus']]).toBe('/etc/isthmus');
    // The controller puts this path in NodePlans; the agent reads the key there.
    const ctl = docs('controller.yaml')[0].spec.template.spec.containers[0].env;
    expect(ctl.find((e: { name: string }) => e.name === 'ISTHMUS_WIREGUARD_KEY_FILE').value).toMatch(
      /^\/etc\/isthmus\//,
    );
  });

  it('every namespaced object lives in isthmus-system', () => {
    for (const f of MANIFESTS) {
      for (const d of docs(f)) {
        const clusterScoped = [
          'Namespace',
          'CustomResourceDefinition',
          'ClusterRole',
          'ClusterRoleBinding',
        ].includes(d.kind);
        expect(d.metadata.namespace, `${f} ${d.kind}/${d.metadata.name}`).toBe(
          clusterScoped ? undefined : 'isthmus-system',
        );
      }
    }
  });
});

describeKube(
  'examples/controller-deployment: every manifest passes kubectl apply --dry-run=server',
  (getKube) => {
    let kube: Kube;
    beforeAll(async () => {
      kube = getKube();
      // The dry runs of namespaced objects and custom resources need the namespace and CRDs for real.
      for (const f of ['namespace.yaml', 'crds.yaml']) {
        const r = await kube.kubectl(['apply', '-f', '-'], { input: text(f) });
        expect(r.code, r.stderr).toBe(0);
      }
      const names = docs('crds.yaml').map((d) => `crd/${d.metadata.name}`);
      const w = await kube.kubectl(['wait', '--for=condition=established', '--timeout=60s', ...names]);
      expect(w.code, w.stderr).toBe(0);
    }, 120_000);

    for (const f of MANIFESTS) {
      it(`${f} is accepted by the API server`, async () => {
        const r = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: text(f) });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim().split('\n')).toHaveLength(docs(f).length);
        expect(r.stdout).toContain('(server dry run)');
      });
    }

    it('the dry run does reject a broken manifest (the check can fail)', async () => {
      const broken = text('agent.yaml').replace('hostNetwork: true', 'hostNetwork: "yes please"');
      const r = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: broken });
      expect(r.code).not.toBe(0);
      const bad = text('rbac.yaml').replace('verbs: [get, list, watch, patch]', 'verbs: get');
      expect((await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: bad })).code).not.toBe(0);
    });
  },
  { tag: 'deploy' },
);
