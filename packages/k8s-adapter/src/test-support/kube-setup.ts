// Helpers shared by the real-API-server suites of the controller (never published).

import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import type { Kube } from '../../../../testing/kube';
import {
  type CrdOptions,
  type CustomResourceDefinition,
  crdManifests,
  renderCrdYaml,
  serviceExportCrd,
} from '../crds';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await sleep(everyMs);
  }
}

/** Applies the isthmus CRDs and the MCS ServiceExport CRD with kubectl and waits until all are Established. */
export async function installCrds(kube: Kube, opts: CrdOptions = {}): Promise<void> {
  await installCrdYaml(kube, renderCrdYaml([...crdManifests(opts), serviceExportCrd()]));
}

/** Applies the CRDs in `yaml` (e.g. the shipped crds.yaml) with kubectl and waits until each is served. */
export async function installCrdYaml(kube: Kube, yaml: string): Promise<void> {
  const crds = (loadAllYaml(yaml) as (CustomResourceDefinition | null)[]).filter(
    (d): d is CustomResourceDefinition => d !== null,
  );
  const r = await kube.kubectl(['apply', '-f', '-'], { input: yaml });
  if (r.code !== 0) throw new Error(`kubectl apply of the CRDs failed: ${r.stderr}`);
  for (const c of crds) {
    await until(`CRD ${c.metadata.name} Established`, async () => {
      const got = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.metadata.name}`,
      );
      return got.body.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
    });
  }
  // Established can precede the group appearing in discovery/serving for a moment.
  for (const c of crds) {
    const plural = c.spec.names.plural;
    await until(
      `${plural} served`,
      async () =>
        (await kube.request('GET', `/apis/${c.spec.group}/${c.spec.versions[0]?.name}/${plural}`)).status ===
        200,
    );
  }
}

/** Creates a namespace with a fixed name (e.g. isthmus-system) if it is missing. */
export async function ensureNamespace(kube: Kube, name: string): Promise<void> {
  const r = await kube.request('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`create namespace ${name}: HTTP ${r.status}`);
}

const EXAMPLE_RBAC = new URL('../../../../examples/controller-deployment/rbac.yaml', import.meta.url);

/**
 * Applies the example deployment's RBAC (examples/controller-deployment/rbac.yaml) into isthmus-system,
 * creating the namespace first; throws with kubectl's stderr when the apply fails.
 */
export async function installExampleRbac(kube: Kube): Promise<{ stdout: string; stderr: string }> {
  await ensureNamespace(kube, 'isthmus-system');
  const r = await kube.kubectl(['apply', '-f', '-'], { input: readFileSync(EXAMPLE_RBAC, 'utf8') });
  if (r.code !== 0) throw new Error(`kubectl apply of the example RBAC exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Creates an object with the admin credentials, failing the test on anything but 201. */
export async function create<T = unknown>(kube: Kube, path: string, body: unknown): Promise<T> {
  const r = await kube.request<T>('POST', path, body);
  if (r.status !== 201)
    throw new Error(`POST ${path}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

/** Runs `fns` with at most `limit` in flight. */
export async function inParallel(limit: number, fns: (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, fns.length) }, async () => {
      while (next < fns.length) await fns[next++]?.();
    }),
  );
}
