import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  type CustomResourceDefinition,
  checkSchema,
  crdManifests,
  renderCrdYaml,
  serviceExportCrd,
} from './crds';
import { SAMPLES } from './test-support/samples';

const byKind = (crds: CustomResourceDefinition[], kind: string) => {
  const c = crds.find((x) => x.spec.names.kind === kind);
  if (!c) throw new Error(`no CRD for ${kind}`);
  return c;
};
const schemaOf = (c: CustomResourceDefinition) => c.spec.versions[0]?.schema.openAPIV3Schema ?? {};

describe('CRDs of isthmus.io/v1alpha1', () => {
  const crds = crdManifests();

  it('has the five kinds with the right scopes, a status subresource and printer columns', () => {
    expect(crds.map((c) => [c.metadata.name, c.spec.scope])).toEqual([
      ['ippools.isthmus.io', 'Cluster'],
      ['globalegressips.isthmus.io', 'Namespaced'],
      ['clusterglobalegressips.isthmus.io', 'Cluster'],
      ['clustersetmembers.isthmus.io', 'Cluster'],
      ['nodeplans.isthmus.io', 'Cluster'],
    ]);
    for (const c of crds) {
      const v = c.spec.versions[0];
      expect(v?.subresources).toEqual({ status: {} });
      expect(v?.additionalPrinterColumns?.length).toBeGreaterThan(1);
      expect(v?.served && v.storage).toBe(true);
    }
  });

  it('every sample of the TS types, with all optional fields set, fits its schema', () => {
    for (const [kind, sample] of Object.entries(SAMPLES)) {
      expect({ kind, violations: checkSchema(schemaOf(byKind(crds, kind)), sample) }).toEqual({
        kind,
        violations: [],
      });
    }
  });

  it('every schema field name exists in the TS sample (no field the types do not know)', () => {
    // Walk the schema's properties; each must appear in the all-fields sample, except the free-form parts.
    const missing: string[] = [];
    const walk = (schema: ReturnType<typeof schemaOf>, value: unknown, path: string) => {
      if (!schema.properties || typeof value !== 'object' || value === null) return;
      for (const [k, sub] of Object.entries(schema.properties)) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) missing.push(`${path}.${k}`);
        else
          walk(
            sub.type === 'array' && sub.items ? sub.items : sub,
            Array.isArray(v) ? v[0] : v,
            `${path}.${k}`,
          );
      }
    };
    for (const [kind, sample] of Object.entries(SAMPLES)) walk(schemaOf(byKind(crds, kind)), sample, kind);
    // NodePlan.nat is optional and free-form; its kind/version are checked when present.
    expect(missing).toEqual(['NodePlan.spec.nat']);
  });

  it('refuses samples missing a required field or with a wrong type, naming where', () => {
    const pool = schemaOf(byKind(crds, 'IPPool'));
    expect(checkSchema(pool, { spec: {} })).toEqual([
      { path: '.spec.subnet', message: 'required field missing' },
    ]);
    expect(checkSchema(pool, { spec: { subnet: 10 } })).toEqual([
      { path: '.spec.subnet', message: 'expected string, got integer' },
    ]);
    expect(checkSchema(pool, { spec: { subnet: 'x', colour: 'red' } })[0]?.path).toBe('.spec.colour');
    const member = schemaOf(byKind(crds, 'ClusterSetMember'));
    expect(
      checkSchema(member, { spec: { clusterID: 'a', podCIDRs: [], serviceCIDRs: [], mode: 'mesh' } })[0]
        ?.path,
    ).toBe('.spec.mode');
  });

  it('numberOfIPs is only an integer by default, so the controller sees 0 and 21 and reports them', () => {
    for (const kind of ['GlobalEgressIP', 'ClusterGlobalEgressIP']) {
      const schema = schemaOf(byKind(crds, kind));
      for (const n of [0, 21, 1000])
        expect(checkSchema(schema, { spec: { numberOfIPs: n } }), kind).toEqual([]);
      expect(checkSchema(schema, { spec: { numberOfIPs: 2.5 } })[0]?.message).toBe(
        'expected integer, got number',
      );
    }
  });

  it('egressLimits: true has the API server refuse numberOfIPs outside 1 to 20 at admission', () => {
    const strict = crdManifests({ egressLimits: true });
    for (const kind of ['GlobalEgressIP', 'ClusterGlobalEgressIP']) {
      const schema = schemaOf(byKind(strict, kind));
      expect(checkSchema(schema, { spec: { numberOfIPs: 21 } }), kind).toEqual([
        { path: '.spec.numberOfIPs', message: '21 > maximum 20' },
      ]);
      expect(checkSchema(schema, { spec: { numberOfIPs: 0 } }), kind).toEqual([
        { path: '.spec.numberOfIPs', message: '0 < minimum 1' },
      ]);
      expect(checkSchema(schema, { spec: { numberOfIPs: 20 } }), kind).toEqual([]);
    }
  });

  it('NodePlan keeps route and NAT entries as written (preserve-unknown-fields) but checks the sections', () => {
    const np = schemaOf(byKind(crds, 'NodePlan'));
    const routes = {
      devices: [{ name: 'vx', kind: 'vxlan', anything: 1 }],
      addresses: [],
      routes: [],
      rules: [],
      neighbours: [],
      fdb: [],
      mangle: [],
    };
    expect(
      checkSchema(np, {
        spec: { node: 'n', routes, nat: { kind: 'globalnet', version: 1, egress: { any: [] } } },
      }),
    ).toEqual([]);
    expect(checkSchema(np, { spec: { node: 'n', routes: { devices: [] } } }).map((v) => v.path)).toContain(
      '.spec.routes.addresses',
    );
    expect(checkSchema(np, { spec: { node: 'n', routes, nat: { version: 1 } } }).map((v) => v.path)).toEqual([
      '.spec.nat.kind',
    ]);
  });

  it('renderCrdYaml gives one YAML document per CRD that a YAML reader reads back to the same CRD', () => {
    // client-node's reader maps JSON names onto its typed models, so compare what both name alike.
    const docs = loadAllYaml(renderCrdYaml()) as {
      metadata: { name: string };
      spec: { scope: string; names: { kind: string } };
    }[];
    expect(docs.map((d) => [d.metadata.name, d.spec.scope, d.spec.names.kind])).toEqual(
      crds.map((c) => [c.metadata.name, c.spec.scope, c.spec.names.kind]),
    );
    const text = renderCrdYaml();
    expect(text.split(/^---$/m)).toHaveLength(6);
    expect(text).toContain('x-kubernetes-preserve-unknown-fields: true');
    expect(text).not.toContain('maximum: 20'); // numberOfIPs is the controller's to check
    expect(renderCrdYaml(crdManifests({ egressLimits: true }))).toContain('maximum: 20');
    expect(text).toContain('pattern: "^\\\\d{4}-\\\\d{2}-\\\\d{2}T"');
    // The exact round trip (every schema field) is checked against the API server in crds.kube.test.ts.
  });

  it('the ServiceExport CRD is multicluster.x-k8s.io/v1alpha1 and namespaced', () => {
    const se = serviceExportCrd();
    expect(se.metadata.name).toBe('serviceexports.multicluster.x-k8s.io');
    expect(se.spec.scope).toBe('Namespaced');
    expect(se.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
  });
});
