import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DropReason,
  type LivePool,
  type SelectPoolsRequest,
  selectPools,
  selectPoolsOrThrow,
} from './select';
import { matchesSelector } from './selector';
import type { LabelSelector, PoolSpec } from './spec';
import { thrown } from './test-support';

function pool(name: string, extra: Partial<PoolSpec> = {}): PoolSpec {
  return { name, subnet: '10.0.0.0/24', ...extra };
}

function live(spec: PoolSpec, free: bigint): LivePool & { calls: number } {
  const p = {
    spec,
    calls: 0,
    stats() {
      p.calls++;
      return { free };
    },
  };
  return p;
}

const request: SelectPoolsRequest = {
  nic: 'eth0',
  family: 4,
  pod: { name: 'web-0', namespace: 'shop', labels: { app: 'web' } },
  namespaceLabels: { team: 'a' },
  node: { name: 'n1', labels: { zone: 'z1' } },
};

const names = (candidates: readonly (PoolSpec | LivePool)[]): string[] =>
  candidates.map((c) => ('spec' in c ? c.spec.name : c.name));

describe('selectPools tiers', () => {
  const pools = [
    pool('ns1'),
    pool('pod1'),
    pool('def1', { default: true }),
    pool('def6', { default: true, subnet: 'fd00::/64' }),
    pool('def2', { default: true }),
    pool('plain'),
  ];

  it('the pod annotation overrides the namespace and the cluster defaults', () => {
    const s = selectPools(pools, { ...request, podPools: ['pod1'], namespaceDefaultPools: ['ns1'] });
    expect(s.source).toBe('pod');
    expect(names(s.candidates)).toEqual(['pod1']);
    expect(s.dropped).toEqual([]);
  });

  it('without pod pools the namespace defaults are used; an empty pod list does not count', () => {
    const s = selectPools(pools, { ...request, podPools: [], namespaceDefaultPools: ['ns1'] });
    expect(s.source).toBe('namespace');
    expect(names(s.candidates)).toEqual(['ns1']);
  });

  it('without either, the default: true pools of the requested family are used, in input order', () => {
    const v4 = selectPools(pools, { ...request, namespaceDefaultPools: [] });
    expect(v4.source).toBe('cluster-default');
    expect(names(v4.candidates)).toEqual(['def1', 'def2']);
    expect(v4.dropped).toEqual([]);
    const v6 = selectPools(pools, { ...request, family: 6 });
    expect(names(v6.candidates)).toEqual(['def6']);
  });

  it('a named tier does not fall back to the next one when all its pools are dropped', () => {
    const s = selectPools(pools, { ...request, podPools: ['missing'] });
    expect(s.source).toBe('pod');
    expect(s.candidates).toEqual([]);
    expect(s.dropped.map((d) => d.reason)).toEqual(['not-found']);
  });

  it('no default pools of the family gives no candidates and says why', () => {
    const s = selectPools([pool('plain'), pool('def6', { default: true, subnet: 'fd00::/64' })], request);
    expect(s.candidates).toEqual([]);
    expect(s.dropped).toEqual([]);
    expect(s.explain()).toBe(
      'no IPv4 pool for eth0 from the cluster defaults: no IPv4 pool has default: true',
    );
  });

  it('returns the input objects themselves', () => {
    const p = pool('pod1');
    expect(selectPools([p], { ...request, podPools: ['pod1'] }).candidates[0]).toBe(p);
  });
});

describe('selectPools drop reasons', () => {
  const cases: ReadonlyArray<[DropReason, PoolSpec | LivePool, string]> = [
    ['disabled', pool('p', { disable: true }), 'pool "p" is disabled'],
    [
      'family',
      pool('p', { subnet: 'fd00::/64' }),
      'pool "p" is IPv6 (subnet fd00::/64), the request is for IPv4',
    ],
    [
      'pod-affinity',
      pool('p', { podAffinity: { matchLabels: { app: 'db' } } }),
      'pool "p" podAffinity does not match the labels of pod "shop/web-0"',
    ],
    [
      'node-name',
      pool('p', { nodeName: ['n2', 'n3'] }),
      'pool "p" is limited to nodes ["n2","n3"], not node "n1"',
    ],
    [
      'node-affinity',
      pool('p', { nodeAffinity: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] } }),
      'pool "p" nodeAffinity does not match the labels of node "n1"',
    ],
    [
      'namespace-name',
      pool('p', { namespaceName: ['kube-system'] }),
      'pool "p" is limited to namespaces ["kube-system"], not namespace "shop"',
    ],
    [
      'namespace-affinity',
      pool('p', { namespaceAffinity: { matchLabels: { team: 'b' } } }),
      'pool "p" namespaceAffinity does not match the labels of namespace "shop"',
    ],
    ['exhausted', live(pool('p'), 0n), 'pool "p" has no free address'],
  ];
  it.each(cases)('%s', (reason, p, message) => {
    const s = selectPools([p], { ...request, podPools: ['p'] });
    expect(s.candidates).toEqual([]);
    expect(s.dropped).toEqual([{ name: 'p', reason, message }]);
  });

  it('not-found names the pool and the tier', () => {
    const s = selectPools([pool('a')], { ...request, namespaceDefaultPools: ['a', 'ghost'] });
    expect(names(s.candidates)).toEqual(['a']);
    expect(s.dropped).toEqual([
      {
        name: 'ghost',
        reason: 'not-found',
        message: 'pool "ghost" named by the namespace defaults does not exist',
      },
    ]);
  });

  it('a pool that passes every filter is kept', () => {
    const p = pool('p', {
      podAffinity: { matchLabels: { app: 'web' } },
      nodeName: ['n1'],
      namespaceAffinity: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] },
    });
    expect(selectPools([p], { ...request, podPools: ['p'] }).candidates).toEqual([p]);
  });

  it('a live pool with free addresses is kept; stats() runs only for pools that passed the spec filters', () => {
    const ok = live(pool('ok'), 3n);
    const off = live(pool('off', { disable: true }), 3n);
    const s = selectPools([ok, off], { ...request, podPools: ['ok', 'off'] });
    expect(s.candidates).toEqual([ok]);
    expect(ok.calls).toBe(1);
    expect(off.calls).toBe(0);
  });

  it('nodeName takes precedence over nodeAffinity, as in Spiderpool', () => {
    const mismatch: LabelSelector = { matchLabels: { zone: 'z9' } };
    const match: LabelSelector = { matchLabels: { zone: 'z1' } };
    const s = selectPools(
      [
        pool('named', { nodeName: ['n1'], nodeAffinity: mismatch }),
        pool('other', { nodeName: ['n2'], nodeAffinity: match }),
      ],
      { ...request, podPools: ['named', 'other'] },
    );
    expect(names(s.candidates)).toEqual(['named']);
    expect(s.dropped.map((d) => [d.name, d.reason])).toEqual([['other', 'node-name']]);
  });

  it('namespaceName takes precedence over namespaceAffinity', () => {
    const s = selectPools(
      [
        pool('named', { namespaceName: ['shop'], namespaceAffinity: { matchLabels: { team: 'z' } } }),
        pool('other', { namespaceName: ['x'], namespaceAffinity: { matchLabels: { team: 'a' } } }),
      ],
      { ...request, podPools: ['named', 'other'] },
    );
    expect(names(s.candidates)).toEqual(['named']);
    expect(s.dropped.map((d) => [d.name, d.reason])).toEqual([['other', 'namespace-name']]);
  });

  it('reports the first failing check in Spiderpool order: disabled, family, node, namespace, pod', () => {
    const all = {
      podAffinity: { matchLabels: { app: 'db' } },
      namespaceName: ['x'],
      nodeName: ['n9'],
    };
    const s = selectPools(
      [
        pool('a', { ...all, disable: true, subnet: 'fd00::/64' }),
        pool('b', { ...all, subnet: 'fd00::/64' }),
        pool('c', all),
        pool('d', { podAffinity: all.podAffinity, namespaceName: all.namespaceName }),
        pool('e', { podAffinity: all.podAffinity }),
      ],
      { ...request, podPools: ['a', 'b', 'c', 'd', 'e'] },
    );
    expect(s.dropped.map((d) => d.reason)).toEqual([
      'disabled',
      'family',
      'node-name',
      'namespace-name',
      'pod-affinity',
    ]);
  });

  it('pod affinity without a pod name words the pod by namespace', () => {
    const s = selectPools([pool('p', { podAffinity: { matchLabels: { app: 'db' } } })], {
      ...request,
      pod: { namespace: 'shop' },
      podPools: ['p'],
    });
    expect(s.dropped[0]?.message).toBe(
      'pool "p" podAffinity does not match the labels of a pod in namespace "shop"',
    );
  });

  it('missing label maps count as no labels', () => {
    const s = selectPools(
      [
        pool('pod', { podAffinity: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }),
        pool('node', { nodeAffinity: { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] } }),
      ],
      { nic: 'eth0', family: 4, pod: { namespace: 'shop' }, node: { name: 'n1' }, podPools: ['pod', 'node'] },
    );
    expect(names(s.candidates)).toEqual(['node']);
    expect(s.dropped.map((d) => d.reason)).toEqual(['pod-affinity']);
  });
});

describe('selectPools ordering', () => {
  const sel: LabelSelector = {};

  it('sorts by podAffinity, nodeName, nodeAffinity, namespaceName, namespaceAffinity', () => {
    const pools = [
      pool('none'),
      pool('nsAff', { namespaceAffinity: sel }),
      pool('nsName', { namespaceName: ['shop'] }),
      pool('nodeAff', { nodeAffinity: sel }),
      pool('nodeName', { nodeName: ['n1'] }),
      pool('podAff', { podAffinity: sel }),
    ];
    const s = selectPools(pools, { ...request, podPools: pools.map((p) => p.name) });
    expect(names(s.candidates)).toEqual(['podAff', 'nodeName', 'nodeAff', 'nsName', 'nsAff', 'none']);
  });

  it('follows the examples of Spiderpool’s allocation docs', () => {
    // 1. podAffinity + nodeName outranks podAffinity alone.
    const a = pool('a', { podAffinity: sel, nodeName: ['n1'] });
    const b = pool('b', { podAffinity: sel });
    expect(names(selectPools([b, a], { ...request, podPools: ['b', 'a'] }).candidates)).toEqual(['a', 'b']);
    // 2. podAffinity alone outranks nodeName + namespaceName.
    const c = pool('c', { podAffinity: sel });
    const d = pool('d', { nodeName: ['n1'], namespaceName: ['shop'] });
    expect(names(selectPools([d, c], { ...request, podPools: ['d', 'c'] }).candidates)).toEqual(['c', 'd']);
  });

  it('keeps the annotation order among equally specific pools, whatever the input order', () => {
    const pools = [pool('a'), pool('b'), pool('c', { nodeName: ['n1'] }), pool('d')];
    const s = selectPools(pools, { ...request, podPools: ['d', 'b', 'c', 'a'] });
    expect(names(s.candidates)).toEqual(['c', 'd', 'b', 'a']);
    const reversed = selectPools([...pools].reverse(), { ...request, podPools: ['d', 'b', 'c', 'a'] });
    expect(names(reversed.candidates)).toEqual(['c', 'd', 'b', 'a']);
  });

  it('keeps the input order among equally specific cluster defaults', () => {
    const pools = [
      pool('z', { default: true }),
      pool('y', { default: true, nodeAffinity: { matchLabels: { zone: 'z1' } } }),
      pool('x', { default: true }),
    ];
    expect(names(selectPools(pools, request).candidates)).toEqual(['y', 'z', 'x']);
  });

  it('empty nodeName and namespaceName lists are not affinity', () => {
    const pools = [pool('a', { nodeName: [], namespaceName: [] }), pool('b', { namespaceAffinity: sel })];
    expect(names(selectPools(pools, { ...request, podPools: ['a', 'b'] }).candidates)).toEqual(['b', 'a']);
  });
});

describe('explain()', () => {
  const pools = [
    pool('p1', { nodeAffinity: { matchLabels: { zone: 'z2' } } }),
    live(pool('p2'), 0n),
    pool('p3', { podAffinity: { matchLabels: { app: 'web' } } }),
    pool('p6', { subnet: 'fd00::/64' }),
    pool('off', { disable: true }),
  ];

  it('lists the candidates in order, then the dropped pools', () => {
    expect(selectPools(pools, { ...request, podPools: ['p1', 'p3'] }).explain()).toBe(
      'IPv4 pools for eth0 from the pod annotation: p3; p1 dropped by node affinity',
    );
    expect(
      selectPools([pool('a'), pool('b')], { ...request, namespaceDefaultPools: ['b', 'a'] }).explain(),
    ).toBe('IPv4 pools for eth0 from the namespace defaults: b, a');
  });

  it('says why there is no pool', () => {
    expect(selectPools(pools, { ...request, podPools: ['p1', 'p2', 'p6', 'off', 'gone'] }).explain()).toBe(
      'no IPv4 pool for eth0 from the pod annotation: p1 dropped by node affinity, p2 exhausted, p6 is IPv6, off disabled, gone not found',
    );
    expect(selectPools([pool('v4')], { ...request, family: 6, podPools: ['v4'] }).explain()).toBe(
      'no IPv6 pool for eth0 from the pod annotation: v4 is IPv4',
    );
  });

  it('words every reason', () => {
    const s = selectPools(
      [
        pool('a', { podAffinity: { matchLabels: { app: 'x' } } }),
        pool('b', { nodeName: ['n2'] }),
        pool('c', { namespaceName: ['x'] }),
        pool('d', { namespaceAffinity: { matchLabels: { team: 'x' } } }),
      ],
      { ...request, podPools: ['a', 'b', 'c', 'd'] },
    );
    expect(s.explain()).toBe(
      'no IPv4 pool for eth0 from the pod annotation: a dropped by pod affinity, b dropped by node name, c dropped by namespace name, d dropped by namespace affinity',
    );
  });
});

describe('selectPoolsOrThrow', () => {
  it('throws NO_POOL_AVAILABLE with explain() as the message', () => {
    const pools = [pool('p1', { disable: true })];
    const req = { ...request, podPools: ['p1'] };
    const err = thrown(() => selectPoolsOrThrow(pools, req));
    expect(err.code).toBe('NO_POOL_AVAILABLE');
    expect(err.message).toBe(selectPools(pools, req).explain());
    expect(err.message).toBe('no IPv4 pool for eth0 from the pod annotation: p1 disabled');
    expect(err.details).toMatchObject({ nic: 'eth0', family: 4, source: 'pod' });
  });

  it('returns the selection when there is a candidate', () => {
    const p = pool('p1');
    expect(selectPoolsOrThrow([p], { ...request, podPools: ['p1'] }).candidates).toEqual([p]);
  });
});

describe('selectPools input errors', () => {
  it('a bad subnet anywhere throws INVALID_PREFIX naming the pool, before any selection', () => {
    const err = thrown(() =>
      selectPools([pool('ok'), pool('bad', { subnet: '10.0.0/24' })], { ...request, podPools: ['ok'] }),
    );
    expect(err.code).toBe('INVALID_PREFIX');
    expect(err.message).toContain('pool "bad"');
    expect(err.details.pool).toBe('bad');
  });

  it('host bits in a subnet are masked, not rejected', () => {
    expect(
      selectPools([pool('p', { subnet: '10.0.0.7/24' })], { ...request, podPools: ['p'] }).candidates,
    ).toHaveLength(1);
  });

  it('an invalid affinity throws INVALID_SELECTOR naming the pool, the field and the requirement', () => {
    const bad = pool('bad', {
      nodeAffinity: { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] },
    });
    const err = thrown(() => selectPools([bad], request));
    expect(err.code).toBe('INVALID_SELECTOR');
    expect(err.message).toContain('pool "bad" nodeAffinity');
    expect(err.message).toContain('matchExpressions[0]');
  });

  it('duplicate pool names are INVALID_ARGUMENT', () => {
    expect(thrown(() => selectPools([pool('a'), pool('a')], request)).code).toBe('INVALID_ARGUMENT');
    const err = thrown(() => selectPools([pool('a')], { ...request, podPools: ['a', 'a'] }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('pool "a" is named twice by the pod annotation for eth0');
  });

  it('a bad family or nic is INVALID_ARGUMENT', () => {
    expect(thrown(() => selectPools([], { ...request, family: 5 as 4 })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => selectPools([], { ...request, nic: '' })).code).toBe('INVALID_ARGUMENT');
  });
});

// ---- properties ----

const POOL_NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
// Weighted towards pools that pass (labels are mostly {k: x}), so candidate lists are long and full of ties.
const selectorArb: fc.Arbitrary<LabelSelector | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 6 },
  {
    arbitrary: fc.constantFrom<LabelSelector>(
      {},
      { matchLabels: { k: 'x' } },
      { matchExpressions: [{ key: 'k', operator: 'In', values: ['x', 'z'] }] },
      { matchExpressions: [{ key: 'k', operator: 'NotIn', values: ['y'] }] },
      { matchExpressions: [{ key: 'j', operator: 'DoesNotExist' }] },
    ),
    weight: 3,
  },
  { arbitrary: fc.constant<LabelSelector>({ matchLabels: { k: 'y' } }), weight: 1 },
);
const labelsArb = fc.oneof(
  { arbitrary: fc.constant({ k: 'x' }), weight: 6 },
  { arbitrary: fc.dictionary(fc.constantFrom('k', 'j'), fc.constantFrom('x', 'y')), weight: 3 },
  { arbitrary: fc.constant(undefined), weight: 1 },
);
const namesArb = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 6 },
  { arbitrary: fc.constantFrom(['n1'], ['n1', 'n2'], []), weight: 3 },
  { arbitrary: fc.constant(['n2']), weight: 1 },
);
const rarely = <T>(value: T, other: T): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: fc.constant(value), weight: 9 }, { arbitrary: fc.constant(other), weight: 1 });

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const specArb = (name: string): fc.Arbitrary<PoolSpec> =>
  fc
    .record({
      subnet: fc.constantFrom('10.0.0.0/24', '10.1.0.0/16', '10.2.0.0/16', 'fd00::/64'),
      default: fc.option(fc.boolean(), { nil: undefined }),
      disable: rarely<boolean | undefined>(undefined, true),
      podAffinity: selectorArb,
      nodeAffinity: selectorArb,
      namespaceAffinity: selectorArb,
      nodeName: namesArb,
      namespaceName: namesArb,
    })
    .map((r) => withoutUndefined({ name, ...r }) as PoolSpec);

type AnyPool = PoolSpec | LivePool;
const poolArb = (name: string): fc.Arbitrary<AnyPool> =>
  fc.oneof(
    specArb(name),
    fc.tuple(specArb(name), rarely(100n, 0n)).map(([spec, free]) => ({ spec, stats: () => ({ free }) })),
  );

const poolsArb: fc.Arbitrary<AnyPool[]> = fc
  .oneof(
    { arbitrary: fc.shuffledSubarray(POOL_NAMES, { minLength: POOL_NAMES.length }), weight: 4 },
    { arbitrary: fc.shuffledSubarray(POOL_NAMES), weight: 1 },
  )
  .chain((ns) => fc.tuple(...ns.map(poolArb)))
  .map((ps) => [...ps]);

const tierNamesArb = fc.option(
  fc.uniqueArray(fc.oneof({ arbitrary: fc.constantFrom(...POOL_NAMES), weight: 9 }, fc.constant('ghost')), {
    maxLength: 7,
  }),
  { nil: undefined },
);

const requestArb: fc.Arbitrary<SelectPoolsRequest> = fc
  .record({
    family: rarely(4 as const, 6 as const),
    podPools: tierNamesArb,
    namespaceDefaultPools: tierNamesArb,
    podLabels: labelsArb,
    namespace: rarely('n1', 'n2'),
    namespaceLabels: labelsArb,
    nodeName: rarely('n1', 'n3'),
    nodeLabels: labelsArb,
  })
  .map(
    (r) =>
      withoutUndefined({
        nic: 'eth0',
        family: r.family,
        podPools: r.podPools,
        namespaceDefaultPools: r.namespaceDefaultPools,
        pod: withoutUndefined({ name: 'pod', namespace: r.namespace, labels: r.podLabels }),
        namespaceLabels: r.namespaceLabels,
        node: withoutUndefined({ name: r.nodeName, labels: r.nodeLabels }),
      }) as SelectPoolsRequest,
  );

// An independent statement of the filters, read from Spiderpool's selectByPod.
function specOf(p: AnyPool): PoolSpec {
  return 'stats' in p ? p.spec : p;
}
function familyOf(spec: PoolSpec): 4 | 6 {
  return spec.subnet.includes(':') ? 6 : 4;
}
function passes(p: AnyPool, req: SelectPoolsRequest): boolean {
  const s = specOf(p);
  if (s.disable === true || familyOf(s) !== req.family) return false;
  const nodeOk =
    s.nodeName !== undefined && s.nodeName.length > 0
      ? s.nodeName.includes(req.node.name)
      : s.nodeAffinity === undefined || matchesSelector(s.nodeAffinity, req.node.labels ?? {});
  const nsOk =
    s.namespaceName !== undefined && s.namespaceName.length > 0
      ? s.namespaceName.includes(req.pod.namespace)
      : s.namespaceAffinity === undefined || matchesSelector(s.namespaceAffinity, req.namespaceLabels ?? {});
  const podOk = s.podAffinity === undefined || matchesSelector(s.podAffinity, req.pod.labels ?? {});
  const free = 'stats' in p ? p.stats().free > 0n : true;
  return nodeOk && nsOk && podOk && free;
}
function tierNames(pools: readonly AnyPool[], req: SelectPoolsRequest): string[] {
  if (req.podPools !== undefined && req.podPools.length > 0) return [...req.podPools];
  if (req.namespaceDefaultPools !== undefined && req.namespaceDefaultPools.length > 0) {
    return [...req.namespaceDefaultPools];
  }
  return pools
    .map(specOf)
    .filter((s) => s.default === true && familyOf(s) === req.family)
    .map((s) => s.name);
}
function specificity(s: PoolSpec): boolean[] {
  return [
    s.podAffinity !== undefined,
    (s.nodeName ?? []).length > 0,
    s.nodeAffinity !== undefined,
    (s.namespaceName ?? []).length > 0,
    s.namespaceAffinity !== undefined,
  ];
}
/** Negative when a is more specific than b. */
function compareSpecificity(a: PoolSpec, b: PoolSpec): number {
  const x = specificity(a);
  const y = specificity(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] ? -1 : 1;
  return 0;
}

describe('selectPools properties', () => {
  it('a candidate always passes every filter, and a dropped pool fails one', () => {
    fc.assert(
      fc.property(poolsArb, requestArb, (pools, req) => {
        const s = selectPools(pools, req);
        for (const c of s.candidates) expect(passes(c, req)).toBe(true);
        const byName = new Map(pools.map((p) => [specOf(p).name, p]));
        for (const d of s.dropped) {
          const p = byName.get(d.name);
          if (p === undefined) expect(d.reason).toBe('not-found');
          else expect(passes(p, req)).toBe(false);
          expect(d.message).toContain(`"${d.name}"`);
        }
      }),
    );
  });

  it('every pool of the chosen tier is either a candidate or dropped, exactly once', () => {
    fc.assert(
      fc.property(poolsArb, requestArb, (pools, req) => {
        const s = selectPools(pools, req);
        const expectedSource =
          (req.podPools ?? []).length > 0
            ? 'pod'
            : (req.namespaceDefaultPools ?? []).length > 0
              ? 'namespace'
              : 'cluster-default';
        expect(s.source).toBe(expectedSource);
        const seen = [...s.candidates.map((c) => specOf(c).name), ...s.dropped.map((d) => d.name)];
        expect([...seen].sort()).toEqual(tierNames(pools, req).sort());
        expect(new Set(seen).size).toBe(seen.length);
      }),
    );
  });

  it('candidates are sorted by specificity, ties in tier order, and the result is deterministic', () => {
    fc.assert(
      fc.property(poolsArb, requestArb, (pools, req) => {
        const s = selectPools(pools, req);
        const tier = tierNames(pools, req);
        const specs = s.candidates.map(specOf);
        for (let i = 1; i < specs.length; i++) {
          const c = compareSpecificity(specs[i - 1]!, specs[i]!);
          expect(c).toBeLessThanOrEqual(0);
          if (c === 0) expect(tier.indexOf(specs[i - 1]!.name)).toBeLessThan(tier.indexOf(specs[i]!.name));
        }
        const again = selectPools(pools, req);
        expect(again.candidates).toEqual(s.candidates);
        expect(again.dropped).toEqual(s.dropped);
        expect(again.explain()).toBe(s.explain());
      }),
      { numRuns: 1000 },
    );
  });

  it('pools of equal specificity keep the order of the tier', () => {
    const plain = (p: AnyPool): AnyPool => {
      const { podAffinity, nodeAffinity, namespaceAffinity, nodeName, namespaceName, ...rest } = specOf(p);
      return 'stats' in p ? { spec: rest, stats: p.stats } : rest;
    };
    fc.assert(
      fc.property(poolsArb, requestArb, (pools, req) => {
        const stripped = pools.map(plain);
        const s = selectPools(stripped, req);
        const kept = new Set(s.candidates.map((c) => specOf(c).name));
        expect(s.candidates.map((c) => specOf(c).name)).toEqual(
          tierNames(stripped, req).filter((n) => kept.has(n)),
        );
      }),
    );
  });

  it('when the pod or namespace names the pools, the input order of the pool list does not matter', () => {
    fc.assert(
      fc.property(
        poolsArb,
        requestArb.filter((r) => (r.podPools ?? []).length > 0 || (r.namespaceDefaultPools ?? []).length > 0),
        (pools, req) => {
          const forward = selectPools(pools, req);
          const backward = selectPools([...pools].reverse(), req);
          expect(backward.candidates).toEqual(forward.candidates);
          expect(backward.dropped).toEqual(forward.dropped);
        },
      ),
    );
  });

  it('selectPoolsOrThrow throws exactly when there is no candidate', () => {
    fc.assert(
      fc.property(poolsArb, requestArb, (pools, req) => {
        const s = selectPools(pools, req);
        if (s.candidates.length > 0) expect(selectPoolsOrThrow(pools, req).candidates).toEqual(s.candidates);
        else expect(thrown(() => selectPoolsOrThrow(pools, req)).message).toBe(s.explain());
      }),
    );
  });
});
