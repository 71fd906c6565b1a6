import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../packages/ipam/dist/', import.meta.url));
const built = existsSync(`${dist}index.js`) && existsSync(`${dist}index.cjs`);

function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

/** Type-checks a consumer module strictly (nodenext, library checks on); expects no diagnostics. */
function expectConsumerTypeChecks(source: string, libCheck = true): void {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-types-'));
  try {
    writeFileSync(join(dir, 'consumer.ts'), source);
    const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        String(!libCheck),
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        join(dir, 'consumer.ts'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// pnpm test builds before it runs the tests; alone, these run only after `pnpm build`.
describe.skipIf(!built)('the built @isthmus/ipam package (needs pnpm build)', () => {
  it('works from CommonJS require', () => {
    const out = node([
      '-e',
      `const m = require(${JSON.stringify(`${dist}index.cjs`)}); console.log(m.createPool({ name: 'p', subnet: '192.0.2.0/30' }).allocate('a').toString())`,
    ]);
    expect(out).toBe('192.0.2.1');
  });

  it('works from an ES module import, and errors carry the cross-copy marker', () => {
    const code = `import * as m from ${JSON.stringify(`${dist}index.js`)};
      const cjs = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(`${dist}index.cjs`)});
      try { m.parseAddr('010.0.0.1'); } catch (e) { console.log(e.code, cjs.IpamError.isInstance(e), e instanceof cjs.IpamError); }`;
    expect(node(['--input-type=module', '-e', code])).toBe('INVALID_ADDRESS true false');
  });
});

describe.skipIf(!built)('the published types (needs pnpm build)', () => {
  it('type-check a strict consumer against dist/index.d.ts, library checks on', () => {
    expectConsumerTypeChecks(
      `import { createPool, type Pool, IpamError, parsePrefix } from ${JSON.stringify(`${dist}index.js`)};
const pool: Pool = createPool({ name: 'p', subnet: '192.0.2.0/24' });
const ip: string = pool.allocate('pod-1').toString();
const bits: number = parsePrefix('10.0.0.0/8').bits;
export const out = [ip, bits, IpamError.isInstance(new Error('x'))];
`,
    );
  });
});

// The planner packages: each dist works from CommonJS and ESM (their @isthmus/ipam dependency resolved
// through the workspace link, as npm would), and a strict consumer type-checks against its .d.ts.
const planners = [
  {
    name: 'globalnet-ipam',
    cjs: `m.allocateClusterCidr({}, 'east').cidr`,
    esmError: `m.createGlobalnet({ globalCidr: '242.0.0.0/16' }).allocateEgress({ kind: 'cluster' }, 21)`,
    errorClass: 'GlobalnetError',
    expected: '242.0.0.0/16',
    consumer: `import { allocateClusterCidr, GlobalnetError, type ClusterAllotments } from 'DIST';
const a: ClusterAllotments = allocateClusterCidr({}, 'east').allotments;
export const out = [a, GlobalnetError.isInstance(new Error('x'))];
`,
  },
  {
    name: 'route-planner',
    cjs: `m.podMAC('0a:1b', require(${JSON.stringify(`${dist}index.cjs`)}).parseAddr('172.100.0.210'))`,
    esmError: `m.planNodeRoutes(m.createTopologyState({ clusters: [], nodes: [] }), 'nowhere')`,
    errorClass: 'RoutePlannerError',
    expected: '0a:1b:ac:64:00:d2',
    consumer: `import { createTopologyState, planNodeRoutes, type Plan, RoutePlannerError } from 'DIST';
const s = createTopologyState({ clusters: [], nodes: [] });
export const f: (n: string) => Plan = (n) => planNodeRoutes(s, n).plan;
export const ok: boolean = RoutePlannerError.isInstance(new Error('x'));
`,
  },
  {
    name: 'k8s-adapter',
    cjs: `m.crdManifests().map((c) => c.spec.names.kind).join(',')`,
    esmError: `m.createReconciler({ clusterID: '' })`,
    errorClass: 'ReconcileError',
    // @kubernetes/client-node's dependency isomorphic-ws ships .d.ts that import 'ws' without @types/ws,
    // so library checks fail in any consumer of client-node; check only our own declarations here.
    libCheck: false,
    expected: 'IPPool,GlobalEgressIP,ClusterGlobalEgressIP,ClusterSetMember,NodePlan',
    consumer: `import { createReconciler, type NodePlan, ReconcileError, type Reconciler } from 'DIST';
const r: Reconciler = createReconciler({ clusterID: 'east', globalCidr: '242.0.0.0/16' });
export const plans: NodePlan[] = [];
export const out = [r.recovered, ReconcileError.isInstance(new Error('x'))];
`,
  },
] as const;

for (const p of planners) {
  const pdist = fileURLToPath(new URL(`../packages/${p.name}/dist/`, import.meta.url));
  const pbuilt = existsSync(`${pdist}index.js`) && existsSync(`${pdist}index.cjs`);
  describe.skipIf(!pbuilt)(`the built @isthmus/${p.name} package (needs pnpm build)`, () => {
    it('works from CommonJS require and ESM import; errors carry the cross-copy marker', () => {
      const out = node([
        '-e',
        `const m = require(${JSON.stringify(`${pdist}index.cjs`)}); console.log(String(${p.cjs}))`,
      ]);
      expect(out).toBe(p.expected);
      const code = `import * as m from ${JSON.stringify(`${pdist}index.js`)};
        const cjs = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(`${pdist}index.cjs`)});
        try { ${p.esmError}; console.log('no error'); } catch (e) { console.log(typeof e.code, cjs.${p.errorClass}.isInstance(e)); }`;
      expect(node(['--input-type=module', '-e', code])).toBe('string true');
    });

    it('type-checks a strict consumer against dist/index.d.ts, library checks on', () => {
      expectConsumerTypeChecks(p.consumer.replace('DIST', `${pdist}index.js`), !('libCheck' in p));
    });
  });
}
