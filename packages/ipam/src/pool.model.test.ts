// Model-based tests of the pool allocator: random command sequences run against a real pool and a naive
// model (owner -> sorted addresses as bigints, the allocatable set expanded address by address from the
// spec text with ip-num, independently of our own parser). Each test enables the checks of one invariant;
// the model follows what the pool returned where a check is off, so every test can fail only on its own.

import fc from 'fast-check';
import { IPv4, IPv6 } from 'ip-num';
import { describe, expect, it } from 'vitest';
import { Addr } from './addr';
import { IpamError } from './errors';
import { IPSet } from './ipset';
import { createPool, type Pool, restorePool } from './pool';
import type { PoolSpec } from './spec';

// ---------------------------------------------------------------------------------------------
// The naive model of a spec

type Family = 4 | 6;

function familyOf(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

/** The value of an address text, computed by ip-num. */
function ipValue(text: string): bigint {
  return familyOf(text) === 6
    ? IPv6.fromString(text).getValue()
    : IPv4.fromDecimalDottedString(text).getValue();
}

/** Every address of "a", "a-b" (small ranges only). */
function expand(entry: string): bigint[] {
  const [a, b = a] = entry.split('-') as [string, string?];
  const out: bigint[] = [];
  for (let v = ipValue(a); v <= ipValue(b); v++) out.push(v);
  return out;
}

interface Config {
  readonly title: string;
  readonly spec: PoolSpec;
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  /** Allocatable addresses in ascending order. */
  readonly allocatable: readonly bigint[];
  readonly allocSet: ReadonlySet<bigint>;
  /** The allocatable addresses as Addr values and canonical text (built once: they are probed after every command). */
  readonly allocAddrs: readonly Addr[];
  readonly allocTexts: readonly string[];
  readonly gateway: bigint | undefined;
  readonly excluded: ReadonlySet<bigint>;
  readonly reserved: ReadonlySet<bigint>;
  /** Addresses of the subnet that are not allocatable, and addresses outside it, for reserve and ownerOf. */
  readonly unallocatable: readonly string[];
  readonly numRuns: number;
}

const MALFORMED = ['192.168.10.256', '10.0.0.01', 'fd00::1::2', 'fd00::g', 'not-an-ip', ''];

function config(
  title: string,
  spec: PoolSpec,
  options: { defaultHosts?: boolean; extra: readonly string[]; numRuns: number },
): Config {
  const [base, bitsText] = spec.subnet.split('/') as [string, string];
  const family = familyOf(base);
  const width = family === 4 ? 32 : 128;
  const bits = Number(bitsText);
  const first = ipValue(base);
  const last = first + (1n << BigInt(width - bits)) - 1n;
  let ips: bigint[];
  if (options.defaultHosts) {
    ips = [];
    // Naive default hosts: no network/broadcast (IPv4), no subnet-router anycast (IPv6), all of a /31../32.
    const lo = bits >= width - 1 ? first : first + 1n;
    const hi = family === 4 && bits < width - 1 ? last - 1n : last;
    for (let v = lo; v <= hi; v++) ips.push(v);
  } else {
    ips = (spec.ips ?? []).flatMap(expand);
  }
  const excluded = new Set((spec.excludeIPs ?? []).flatMap(expand));
  const reserved = new Set((spec.reservedIPs ?? []).flatMap(expand));
  const gateway = spec.gateway === undefined ? undefined : ipValue(spec.gateway);
  const allocatable = [...new Set(ips)]
    .filter((v) => !excluded.has(v) && !reserved.has(v) && v !== gateway)
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const unallocatable = [
    ...(spec.gateway === undefined ? [] : [spec.gateway]),
    ...(spec.excludeIPs ?? []).flatMap((e) => e.split('-')),
    ...(spec.reservedIPs ?? []).flatMap((e) => e.split('-')),
    ...options.extra,
  ];
  return {
    title,
    spec,
    family,
    first,
    last,
    allocatable,
    allocSet: new Set(allocatable),
    allocAddrs: allocatable.map((v) => Addr.fromBigInt(family, v)),
    allocTexts: allocatable.map((v) => Addr.fromBigInt(family, v).toString()),
    gateway,
    excluded,
    reserved,
    unallocatable,
    numRuns: options.numRuns,
  };
}

const CONFIGS: readonly Config[] = [
  config(
    'IPv4 /27 dense pool (ips ranges, excludeIPs, a gateway inside ips, reservedIPs)',
    {
      name: 'v4-small',
      subnet: '192.168.10.0/27',
      ips: ['192.168.10.1-192.168.10.12', '192.168.10.16-192.168.10.30'],
      excludeIPs: ['192.168.10.5', '192.168.10.20-192.168.10.21'],
      gateway: '192.168.10.1',
      reservedIPs: ['192.168.10.10'],
      routes: [{ dst: '10.96.0.0/12', gw: '192.168.10.1' }],
    },
    {
      extra: ['192.168.10.0', '192.168.10.13', '192.168.10.31', '192.168.10.32', '192.168.9.255', 'fd00::1'],
      numRuns: 200,
    },
  ),
  config(
    'IPv4 /25 dense pool whose ips straddle bitmap words',
    {
      name: 'v4-words',
      subnet: '10.1.0.0/25',
      ips: ['10.1.0.28-10.1.0.40', '10.1.0.60-10.1.0.70', '10.1.0.94-10.1.0.112'],
      excludeIPs: ['10.1.0.33'],
      gateway: '10.1.0.100',
      reservedIPs: ['10.1.0.64-10.1.0.65'],
    },
    {
      extra: ['10.1.0.0', '10.1.0.27', '10.1.0.41', '10.1.0.113', '10.1.0.127', '10.1.0.128', '10.1.1.30'],
      numRuns: 200,
    },
  ),
  config(
    'IPv6 /122 dense pool (default ips)',
    {
      name: 'v6-dense',
      subnet: 'fd00:1::/122',
      gateway: 'fd00:1::1',
      excludeIPs: ['fd00:1::18-fd00:1::2f'],
      reservedIPs: ['fd00:1::3f'],
    },
    { defaultHosts: true, extra: ['fd00:1::', 'fd00:1::40', 'fd00:2::5', '192.168.10.3'], numRuns: 200 },
  ),
  config(
    'IPv4 /12 dense pool with a hashed address index (more than 2^16 addresses)',
    {
      name: 'v4-hashed-index',
      subnet: '172.16.0.0/12',
      ips: ['172.16.0.1-172.16.0.12', '172.20.255.250-172.21.0.6', '172.31.255.240-172.31.255.254'],
      gateway: '172.16.0.1',
      excludeIPs: ['172.21.0.0'],
      reservedIPs: ['172.31.255.250'],
    },
    {
      extra: ['172.16.0.0', '172.16.0.13', '172.31.255.255', '172.32.0.1', '10.0.0.1'],
      numRuns: 150,
    },
  ),
  config(
    'sparse IPv6 /64 pool with a few small ranges (one across a 32-bit boundary, one at the top)',
    {
      name: 'v6-sparse',
      subnet: 'fd00::/64',
      ips: [
        'fd00::10-fd00::28',
        'fd00::ffff:fffc-fd00::1:0:8',
        'fd00::ffff:ffff:ffff:fff8-fd00::ffff:ffff:ffff:ffff',
      ],
      gateway: 'fd00::10',
      excludeIPs: ['fd00::18-fd00::1a'],
      reservedIPs: ['fd00::1:0:0'],
    },
    {
      extra: [
        'fd00::',
        'fd00::f',
        'fd00::29',
        'fd00::ffff:ffff:ffff:fff7',
        'fd00::1:0:9',
        'fd00:0:0:1::',
        'fd01::10',
        '10.0.0.16',
      ],
      numRuns: 150,
    },
  ),
  config(
    'sparse IPv4 /7 pool with small ips ranges',
    {
      name: 'v4-sparse',
      subnet: '10.0.0.0/7',
      ips: ['10.0.0.1-10.0.0.20', '10.255.255.250-11.0.0.5', '11.255.255.240-11.255.255.254'],
      gateway: '10.0.0.1',
      excludeIPs: ['10.0.0.7'],
      reservedIPs: ['11.0.0.0'],
    },
    {
      extra: ['10.0.0.0', '10.0.0.21', '11.255.255.255', '12.0.0.1', '9.255.255.255', 'fd00::1'],
      numRuns: 150,
    },
  ),
];

const OWNERS = [
  'pod-a',
  'pod-b',
  'pod-c',
  'pod-d',
  'pod-e',
  'pod-f',
  'pod-g',
  'pod-h',
  'kube-system/coredns',
  'default/egress-gw',
  '0f8e3c1a-6b1d-4c2e-9a7f-2d3b4c5d6e7f',
  'ünïcödé',
  'x',
  'pod-n',
  ...Array.from({ length: 34 }, (_, i) => `default/pod-${i}`),
];

// ---------------------------------------------------------------------------------------------
// Model, real system, checks

type Check =
  | 'unique'
  | 'inPool'
  | 'idempotent'
  | 'exhaustion'
  | 'lowest'
  | 'reserve'
  | 'noChange'
  | 'restore';

class Model {
  readonly held = new Map<string, bigint[]>();
  readonly holder = new Map<bigint, string>();
  constructor(readonly cfg: Config) {}

  isFree(v: bigint): boolean {
    return this.cfg.allocSet.has(v) && !this.holder.has(v);
  }

  freeCount(): number {
    return this.cfg.allocatable.length - this.holder.size;
  }

  /** The lowest run of n free, consecutive addresses, or undefined. */
  lowestRun(n: number): bigint[] | undefined {
    let run: bigint[] = [];
    for (const v of this.cfg.allocatable) {
      if (!this.isFree(v)) {
        run = [];
        continue;
      }
      const prev = run[run.length - 1];
      run = prev !== undefined && v === prev + 1n ? [...run, v] : [v];
      if (run.length === n) return run;
    }
    return undefined;
  }

  assign(owner: string, values: readonly bigint[]): void {
    this.release(owner);
    const sorted = [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    this.held.set(owner, sorted);
    for (const v of sorted) this.holder.set(v, owner);
  }

  release(owner: string): void {
    for (const v of this.held.get(owner) ?? []) if (this.holder.get(v) === owner) this.holder.delete(v);
    this.held.delete(owner);
  }
}

interface Real {
  pool: Pool;
  /** The pool a restore replaced; it receives the same commands and must behave the same. */
  original: Pool | undefined;
}

type Outcome = { ok: true; value: bigint[] } | { ok: false; code: string; message: string };

function attempt(f: () => Addr | Addr[]): Outcome {
  try {
    const r = f();
    return { ok: true, value: (Array.isArray(r) ? r : [r]).map((a) => a.toBigInt()) };
  } catch (e) {
    if (!IpamError.isInstance(e)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

const codeOf = (o: Outcome): string => (o.ok ? 'ok' : o.code);

function isContiguous(values: readonly bigint[]): boolean {
  return values.every((v, i) => i === 0 || v === values[i - 1]! + 1n);
}

function sameValues(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A reserve argument: text, or an Addr value built from ip-num's reading of the text. */
interface ReserveItem {
  readonly text: string;
  readonly asAddr: boolean;
}

function reserveArg(item: ReserveItem): Addr | string {
  if (!item.asAddr || MALFORMED.includes(item.text)) return item.text;
  return Addr.fromBigInt(familyOf(item.text), ipValue(item.text));
}

function makeCommands(cfg: Config, checks: ReadonlySet<Check>) {
  const on = (c: Check) => checks.has(c);

  /** Run an operation on the pool (and on the pre-restore original), checking what every call must keep. */
  function perform(r: Real, act: (p: Pool) => Addr | Addr[]): Outcome {
    const state = (p: Pool) => ({
      snapshot: p.snapshot(),
      stats: p.stats(),
      free: p.freeRanges().toString(),
    });
    const before = on('noChange') ? state(r.pool) : undefined;
    const out = attempt(() => act(r.pool));
    if (!out.ok && before) expect(state(r.pool), `${out.code} must not change the pool`).toEqual(before);
    if (r.original && on('restore')) {
      const original = r.original;
      expect(
        attempt(() => act(original)),
        'the restored pool answers like the original',
      ).toEqual(out);
    }
    return out;
  }

  function checkState(m: Model, r: Real): void {
    const pool = r.pool;
    const allocations = pool.allocations();
    if (on('unique')) {
      // Few expect() calls per command keep the runs fast; each compares a whole list.
      const seen = new Map<bigint, string>();
      const twice: string[] = [];
      for (const [owner, addrs] of allocations) {
        for (const a of addrs) {
          const v = a.toBigInt();
          if (seen.has(v)) twice.push(`${a} (${seen.get(v)} and ${owner})`);
          seen.set(v, owner);
        }
      }
      expect(twice, 'addresses with two owners').toEqual([]);
      const firsts = allocations.map(([, addrs]) => addrs[0]!.toBigInt());
      expect(firsts, 'allocations() is in address order').toEqual(
        [...firsts].sort((x, y) => (x < y ? -1 : 1)),
      );
      // Whole-state text comparisons: one cheap expect per command, with a readable diff on failure.
      const show = (o: string | undefined) => o ?? '-';
      expect(
        allocations.map(([o, addrs]) => `${o}: ${addrs.map((a) => a.toBigInt()).join(' ')}`).join('\n'),
      ).toBe(
        [...m.held]
          .sort(([, x], [, y]) => (x[0]! < y[0]! ? -1 : 1))
          .map(([o, vs]) => `${o}: ${vs.join(' ')}`)
          .join('\n'),
      );
      expect(
        OWNERS.map((o) => `${o} ${pool.has(o)} ${pool.addressesOf(o).map((a) => a.toBigInt())}`).join('\n'),
      ).toBe(OWNERS.map((o) => `${o} ${m.held.has(o)} ${m.held.get(o) ?? []}`).join('\n'));
      expect(
        cfg.allocatable
          .map(
            (v, i) =>
              `${v} ${show(pool.ownerOf(cfg.allocAddrs[i]!))} ${show(pool.ownerOf(cfg.allocTexts[i]!))}`,
          )
          .join('\n'),
      ).toBe(cfg.allocatable.map((v) => `${v} ${show(m.holder.get(v))} ${show(m.holder.get(v))}`).join('\n'));
      expect(cfg.unallocatable.map((t) => pool.ownerOf(t)).filter((o) => o !== undefined)).toEqual([]);
      const total = BigInt(cfg.allocatable.length);
      expect(pool.stats()).toEqual({
        total,
        allocated: m.holder.size,
        free: total - BigInt(m.holder.size),
        owners: m.held.size,
      });
    }
    if (on('inPool')) {
      const bad: string[] = [];
      for (const [, addrs] of allocations) {
        for (const a of addrs) {
          const v = a.toBigInt();
          if (a.family !== cfg.family || v < cfg.first || v > cfg.last)
            bad.push(`${a} is outside the subnet`);
          if (!cfg.allocSet.has(v)) bad.push(`${a} is not allocatable`);
          if (v === cfg.gateway) bad.push(`${a} is the gateway`);
          if (cfg.excluded.has(v)) bad.push(`${a} is excluded`);
          if (cfg.reserved.has(v)) bad.push(`${a} is reserved`);
        }
      }
      expect(bad).toEqual([]);
      const free = cfg.allocatable.filter((v) => m.isFree(v)).map((v) => [v, v] as const);
      expect(pool.freeRanges().toString()).toBe(IPSet.fromRanges(cfg.family, free).toString());
      const all = cfg.allocatable.map((v) => [v, v] as const);
      expect(pool.allocatable().toString()).toBe(IPSet.fromRanges(cfg.family, all).toString());
    }
    if (on('restore') && r.original) expect(r.original.snapshot()).toEqual(pool.snapshot());
  }

  class Allocate implements fc.Command<Model, Real> {
    constructor(readonly owner: string) {}
    check = () => true;
    run(m: Model, r: Real): void {
      const held = m.held.get(this.owner);
      const lowest = m.lowestRun(1);
      const out = perform(r, (p) => p.allocate(this.owner));
      if (held) {
        if (on('idempotent')) {
          if (held.length === 1) expect(out).toEqual({ ok: true, value: held });
          else expect(codeOf(out)).toBe('OWNER_CONFLICT');
        }
      } else {
        if (on('exhaustion')) expect(codeOf(out)).toBe(lowest ? 'ok' : 'POOL_EXHAUSTED');
        if (on('lowest') && lowest) expect(out).toEqual({ ok: true, value: lowest });
        if (on('exhaustion') && !out.ok && !lowest) {
          expect(out.message).toContain(JSON.stringify(cfg.spec.name));
          expect(out.message).toContain(String(cfg.allocatable.length));
        }
      }
      if (out.ok) m.assign(this.owner, out.value);
      checkState(m, r);
    }
    toString = () => `allocate(${JSON.stringify(this.owner)})`;
  }

  class AllocateBlock implements fc.Command<Model, Real> {
    constructor(
      readonly owner: string,
      readonly n: number,
    ) {}
    check = () => true;
    run(m: Model, r: Real): void {
      const held = m.held.get(this.owner);
      const run = m.lowestRun(this.n);
      const free = m.freeCount();
      const out = perform(r, (p) => p.allocateBlock(this.owner, this.n));
      if (held) {
        if (on('idempotent')) {
          if (held.length === this.n && isContiguous(held)) expect(out).toEqual({ ok: true, value: held });
          else expect(codeOf(out)).toBe('OWNER_CONFLICT');
        }
      } else {
        const want = run ? 'ok' : free < this.n ? 'POOL_EXHAUSTED' : 'NO_CONTIGUOUS_BLOCK';
        if (on('exhaustion')) {
          expect(codeOf(out), `block of ${this.n} with ${free} free`).toBe(want);
          if (!out.ok && want === 'POOL_EXHAUSTED') {
            expect(out.message).toContain(JSON.stringify(cfg.spec.name));
            expect(out.message).toContain(String(cfg.allocatable.length));
            expect(out.message).toContain(free === 0 ? 'are in use' : `only ${free} of`);
          }
          if (!out.ok && want === 'NO_CONTIGUOUS_BLOCK') {
            expect(out.message).toContain(`${free} free`);
            expect(out.message).toContain(`${this.n} contiguous`);
          }
        }
        if (on('lowest') && run) expect(out).toEqual({ ok: true, value: run });
      }
      if (out.ok) m.assign(this.owner, out.value);
      checkState(m, r);
    }
    toString = () => `allocateBlock(${JSON.stringify(this.owner)}, ${this.n})`;
  }

  /** What reserve must do, step by step as documented: arguments first, then the owner, then each address. */
  function expectReserve(
    m: Model,
    owner: string,
    items: readonly ReserveItem[],
  ): { category: Check; ok: true; value: bigint[] } | { category: Check; ok: false; code: string } {
    const fail = (category: Check, code: string) => ({ category, ok: false as const, code });
    if (items.length === 0) return fail('reserve', 'INVALID_ARGUMENT');
    const values: bigint[] = [];
    for (const { text } of items) {
      if (MALFORMED.includes(text)) return fail('reserve', 'INVALID_ADDRESS');
      const v = ipValue(text);
      if (familyOf(text) !== cfg.family || v < cfg.first || v > cfg.last)
        return fail('reserve', 'OUT_OF_POOL');
      values.push(v);
    }
    values.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    if (values.some((v, i) => i > 0 && v === values[i - 1])) return fail('reserve', 'INVALID_ARGUMENT');
    const held = m.held.get(owner);
    if (held) {
      return sameValues(held, values)
        ? { category: 'idempotent', ok: true, value: held }
        : fail('idempotent', 'OWNER_CONFLICT');
    }
    for (const v of values) {
      if (m.holder.has(v)) return fail('reserve', 'ADDRESS_IN_USE');
      if (!cfg.allocSet.has(v)) return fail('reserve', 'OUT_OF_POOL');
    }
    return { category: 'reserve', ok: true, value: values };
  }

  class Reserve implements fc.Command<Model, Real> {
    constructor(
      readonly owner: string,
      readonly items: readonly ReserveItem[],
      readonly single: boolean,
    ) {}
    check = () => true;
    run(m: Model, r: Real): void {
      const want = expectReserve(m, this.owner, this.items);
      const args = this.items.map((item) => reserveArg(item));
      const out = perform(r, (p) =>
        p.reserve(this.owner, this.single && args.length === 1 ? args[0]! : args),
      );
      if (on(want.category)) {
        if (want.ok) expect(out).toEqual({ ok: true, value: want.value });
        else expect(codeOf(out)).toBe(want.code);
      }
      if (out.ok) m.assign(this.owner, out.value);
      checkState(m, r);
    }
    toString = () =>
      `reserve(${JSON.stringify(this.owner)}, ${this.single ? '' : '['}${this.items
        .map((i) => (i.asAddr ? `Addr(${i.text})` : JSON.stringify(i.text)))
        .join(', ')}${this.single ? '' : ']'})`;
  }

  class Release implements fc.Command<Model, Real> {
    constructor(readonly owner: string) {}
    check = () => true;
    run(m: Model, r: Real): void {
      const held = m.held.get(this.owner) ?? [];
      const out = perform(r, (p) => p.release(this.owner));
      if (on('reserve')) expect(out).toEqual({ ok: true, value: held });
      if (out.ok) m.release(this.owner);
      checkState(m, r);
    }
    toString = () => `release(${JSON.stringify(this.owner)})`;
  }

  class SnapshotRestore implements fc.Command<Model, Real> {
    check = () => true;
    run(m: Model, r: Real): void {
      const snapshot = r.pool.snapshot();
      const restored = restorePool(cfg.spec, JSON.parse(JSON.stringify(snapshot)));
      if (on('restore')) {
        expect(restored.snapshot()).toEqual(snapshot);
        expect(restored.stats()).toEqual(r.pool.stats());
        expect(restored.allocations()).toEqual(r.pool.allocations());
        expect(restored.freeRanges().equals(r.pool.freeRanges())).toBe(true);
      }
      r.original = r.pool;
      r.pool = restored;
      checkState(m, r);
    }
    toString = () => 'pool = restorePool(spec, JSON round trip of pool.snapshot())';
  }

  const owner = fc.constantFrom(...OWNERS);
  const allocatableText = fc.constantFrom(...cfg.allocTexts);
  const text = fc.oneof(
    { weight: 8, arbitrary: allocatableText },
    { weight: 3, arbitrary: fc.constantFrom(...cfg.unallocatable) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED) },
  );
  const item = fc.record({ text, asAddr: fc.boolean() });
  const items = fc.oneof(
    { weight: 1, arbitrary: fc.constant([] as ReserveItem[]) },
    { weight: 20, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) },
  );
  const allocate = owner.map((o) => new Allocate(o));
  const block = fc.tuple(owner, fc.integer({ min: 1, max: 6 })).map(([o, n]) => new AllocateBlock(o, n));
  const reserve = fc.tuple(owner, items, fc.boolean()).map(([o, xs, single]) => new Reserve(o, xs, single));
  const release = owner.map((o) => new Release(o));
  const restore = fc.constant(new SnapshotRestore());
  return fc.commands(
    [
      allocate,
      allocate,
      allocate,
      allocate,
      block,
      block,
      block,
      reserve,
      reserve,
      release,
      release,
      restore,
    ],
    { maxCommands: 70, size: 'max' },
  );
}

function runModel(cfg: Config, checks: readonly Check[]): void {
  fc.assert(
    fc.property(makeCommands(cfg, new Set(checks)), (cmds) => {
      fc.modelRun(
        () => ({ model: new Model(cfg), real: { pool: createPool(cfg.spec), original: undefined } }),
        cmds,
      );
    }),
    { numRuns: cfg.numRuns },
  );
}

describe.each(CONFIGS)('$title', (cfg) => {
  it('the naive model of the spec matches what the pool says is allocatable', () => {
    const pool = createPool(cfg.spec);
    expect(pool.stats().total).toBe(BigInt(cfg.allocatable.length));
    expect(cfg.allocatable.length).toBeGreaterThan(10);
  });

  it('no address has two owners, and ownerOf/addressesOf/has/stats agree with what was handed out', () => {
    runModel(cfg, ['unique']);
  });

  it('every allocated address is inside the pool and never the gateway, an excluded or a reserved address; freeRanges is exactly the rest', () => {
    runModel(cfg, ['inPool']);
  });

  it('allocate, allocateBlock and reserve are idempotent per owner; asking for anything else while holding is OWNER_CONFLICT', () => {
    runModel(cfg, ['idempotent']);
  });

  it('exhaustion happens only when the pool is full: POOL_EXHAUSTED iff fewer than n are free, NO_CONTIGUOUS_BLOCK iff n are free but no run of n', () => {
    runModel(cfg, ['exhaustion']);
  });

  it("allocate returns exactly the model's lowest free address and allocateBlock the model's lowest run", () => {
    runModel(cfg, ['lowest']);
  });

  it('reserve takes exactly the listed addresses or fails with the first problem and takes none; release frees exactly what the owner held', () => {
    runModel(cfg, ['reserve']);
  });

  it('a failed call changes nothing (snapshot and stats before == after)', () => {
    runModel(cfg, ['noChange']);
  });

  it('restorePool(spec, snapshot) rebuilds the pool exactly and behaves exactly like the original from then on', () => {
    runModel(cfg, ['restore']);
  });
});
