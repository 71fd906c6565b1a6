import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Addr, parseAddr } from './addr';
import type { IpamError } from './errors';
import { type IPRange, IPSet, IPSetBuilder, type IPSetInput, parseRange } from './ipset';
import { Prefix, parsePrefix } from './prefix';
import { thrown } from './test-support';

type Fam = 4 | 6;

const range = (from: string, to: string): IPRange => ({ from: parseAddr(from), to: parseAddr(to) });

describe('parseRange', () => {
  it('parses IPv4 and IPv6 ranges into canonical addresses', () => {
    const r4 = parseRange('172.110.1.1-172.110.1.200');
    expect([r4.from.toString(), r4.to.toString()]).toEqual(['172.110.1.1', '172.110.1.200']);
    const r6 = parseRange('2001:DB8:0::1-2001:db8::ff');
    expect([r6.from.toString(), r6.to.toString()]).toEqual(['2001:db8::1', '2001:db8::ff']);
    expect(Object.isFrozen(r6)).toBe(true);
  });

  it('accepts a range of one address, written as "a-a" or as a single address (as Spiderpool does)', () => {
    const a = parseRange('10.0.0.7-10.0.0.7');
    const b = parseRange('10.0.0.7');
    expect(a.from.equals(a.to)).toBe(true);
    expect(b.from.toString()).toBe('10.0.0.7');
    expect(b.to.toString()).toBe('10.0.0.7');
  });

  it.each([
    ['10.0.0.9-10.0.0.1', 'after'],
    ['10.0.0.1-2001:db8::1', 'IPv4 but end is IPv6'],
    ['10.0.0.1 - 10.0.0.9', 'white space'],
    ['10.0.0.1-', 'end ""'],
    ['-10.0.0.1', 'start ""'],
    ['10.0.0.1-10.0.0.2-10.0.0.3', "more than one '-'"],
    ['10.0.0.1-10.0.0.256', 'over 255'],
    ['10.0.0.01-10.0.0.9', 'leading zero'],
    ['', 'empty'],
  ])('rejects %j with INVALID_RANGE naming the text and the reason (%s)', (text, reason) => {
    const e = thrown(() => parseRange(text));
    expect(e.code).toBe('INVALID_RANGE');
    expect(e.message).toContain(JSON.stringify(text));
    expect(e.message).toContain(reason);
    expect(e.details.value).toBe(text);
  });
});

describe('IPSet from entries', () => {
  it('reads CIDRs, single addresses and ranges of both families into canonical entries, IPv4 first', () => {
    const s = IPSet.from([
      '2001:db8::/126',
      '10.0.1.0',
      '10.0.0.1-10.0.0.5',
      '2001:db8::10-2001:db8::11',
      '192.168.0.0/30',
    ]);
    expect(s.toString()).toBe(
      '10.0.0.1-10.0.0.5,10.0.1.0,192.168.0.0-192.168.0.3,2001:db8::-2001:db8::3,2001:db8::10-2001:db8::11',
    );
    expect(s.families()).toEqual([4, 6]);
    expect(s.size()).toBe(5n + 1n + 4n + 4n + 2n);
  });

  it('accepts Addr, Prefix and IPRange values as well as text', () => {
    const s = IPSet.from([parseAddr('10.0.0.8'), parsePrefix('10.0.0.0/29'), range('10.0.0.9', '10.0.0.12')]);
    expect(s.toJSON()).toEqual(['10.0.0.0-10.0.0.12']);
  });

  it('merges overlapping and adjacent entries, and keeps gaps', () => {
    const s = IPSet.from(['10.0.0.0-10.0.0.4', '10.0.0.5', '10.0.0.3-10.0.0.6', '10.0.0.8']);
    expect(s.toJSON()).toEqual(['10.0.0.0-10.0.0.6', '10.0.0.8']);
    expect(s.rangesOf(4)).toHaveLength(2);
  });

  it('keeps IPv4-mapped IPv6 addresses apart from IPv4 (no silent unmapping)', () => {
    const s = IPSet.from(['10.0.0.1', '::ffff:10.0.0.1']);
    expect(s.toJSON()).toEqual(['10.0.0.1', '::ffff:10.0.0.1']);
    expect(s.families()).toEqual([4, 6]);
  });

  it('handles the edges of both address spaces', () => {
    const all4 = IPSet.from(['0.0.0.0/0']);
    expect(all4.size()).toBe(1n << 32n);
    expect(all4.toString()).toBe('0.0.0.0-255.255.255.255');
    expect(all4.prefixes().map(String)).toEqual(['0.0.0.0/0']);
    const all6 = IPSet.from(['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']);
    expect(all6.prefixes().map(String)).toEqual(['::/0']);
    expect(all6.size()).toBe(1n << 128n);
    const tail = IPSet.from(['255.255.255.254', '255.255.255.255']);
    expect(tail.toJSON()).toEqual(['255.255.255.254-255.255.255.255']);
    expect(IPSet.from(['0.0.0.1-255.255.255.255']).prefixes()).toHaveLength(32);
  });

  it('IPSet.EMPTY and an empty list are the same empty set', () => {
    const e = IPSet.from([]);
    expect(e.equals(IPSet.EMPTY)).toBe(true);
    expect(e.isEmpty()).toBe(true);
    expect(e.size()).toBe(0n);
    expect(e.families()).toEqual([]);
    expect(e.toString()).toBe('');
    expect(e.toJSON()).toEqual([]);
    expect(e.prefixes()).toEqual([]);
    expect(e.ranges()).toEqual([]);
    expect(IPSet.from(['10.0.0.0/24']).isEmpty()).toBe(false);
  });

  it('is immutable: frozen, and changing a returned array does not change the set', () => {
    const s = IPSet.from(['10.0.0.0/24', '2001:db8::1']);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.rangesOf(4))).toBe(true);
    expect(Object.isFrozen(s.rangesOf(4)[0])).toBe(true);
    const rs = s.ranges();
    rs.pop();
    rs.push(range('1.1.1.1', '1.1.1.1'));
    expect(s.toJSON()).toEqual(['10.0.0.0-10.0.0.255', '2001:db8::1']);
  });

  it('prefixes() is the minimal aligned cover of a range', () => {
    expect(IPSet.from(['10.0.0.1-10.0.0.5']).prefixes().map(String)).toEqual([
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/31',
    ]);
    expect(IPSet.from(['10.0.0.0-10.0.1.255', '2001:db8::2-2001:db8::3']).prefixes().map(String)).toEqual([
      '10.0.0.0/23',
      '2001:db8::2/127',
    ]);
  });

  it('ranges() returns Addr values, IPv4 first', () => {
    const rs = IPSet.from(['2001:db8::1', '10.0.0.1-10.0.0.2']).ranges();
    expect(rs.map((r) => `${r.from}..${r.to}`)).toEqual(['10.0.0.1..10.0.0.2', '2001:db8::1..2001:db8::1']);
    expect(rs[0]?.from).toBeInstanceOf(Addr);
  });
});

describe('bad input', () => {
  it.each([
    ['10.0.0.0/33', 'INVALID_PREFIX'],
    ['10.1.2.3/8', 'INVALID_PREFIX'],
    ['2001:db8::/129', 'INVALID_PREFIX'],
    ['10.0.0.0/', 'INVALID_PREFIX'],
    ['10.0.0.256', 'INVALID_ADDRESS'],
    ['010.0.0.1', 'INVALID_ADDRESS'],
    ['10.1', 'INVALID_ADDRESS'],
    ['fe80::1%eth0', 'INVALID_ADDRESS'],
    ['', 'INVALID_ADDRESS'],
    [' 10.0.0.1', 'INVALID_ADDRESS'],
    ['10.0.0.9-10.0.0.1', 'INVALID_RANGE'],
    ['10.0.0.1-2001:db8::1', 'INVALID_RANGE'],
    ['10.0.0.1-', 'INVALID_RANGE'],
  ])('%j is collected as %s, naming the value', (text, code) => {
    const b = new IPSetBuilder().add(text);
    expect(b.errors).toHaveLength(1);
    const e = b.errors[0]!;
    expect(e.code).toBe(code);
    expect(e.message).toContain(JSON.stringify(text));
  });

  it('a Prefix value with host bits set is an error, as the same text would be', () => {
    const b = new IPSetBuilder().add(Prefix.from(parseAddr('10.1.2.3'), 8));
    const e = b.errors[0]!;
    expect(e.code).toBe('INVALID_PREFIX');
    expect(e.message).toContain('10.1.2.3/8');
    expect(e.message).toContain('10.0.0.0/8');
  });

  it('IPRange values with mixed families or reversed ends are INVALID_RANGE', () => {
    const b = new IPSetBuilder()
      .add(range('10.0.0.1', '2001:db8::1'))
      .add(range('10.0.0.9', '10.0.0.1'))
      .remove(range('2001:db8::9', '2001:db8::1'));
    expect(b.errors.map((e) => e.code)).toEqual(['INVALID_RANGE', 'INVALID_RANGE', 'INVALID_RANGE']);
    expect(b.errors[1]!.message).toContain('10.0.0.9-10.0.0.1');
    expect(b.errors[2]!.message).toContain('2001:db8::9-2001:db8::1');
  });

  it('a value that is not an input at all is INVALID_ARGUMENT', () => {
    const b = new IPSetBuilder().add(42 as unknown as IPSetInput).add(null as unknown as IPSetInput);
    expect(b.errors.map((e) => e.code)).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    expect(b.errors[0]!.message).toContain('42');
  });

  it('the builder collects errors in input order and build() reports them all as INVALID_IP_SET', () => {
    const b = new IPSetBuilder()
      .add('10.0.0.1')
      .add('10.0.0.300')
      .remove('10.0.0.0/33')
      .add('10.0.0.0/24')
      .add('10.0.0.9-10.0.0.1');
    expect(b.errors.map((e) => e.details.value)).toEqual(['10.0.0.300', '10.0.0.0/33', '10.0.0.9-10.0.0.1']);
    expect(b.errors.map((e) => e.code)).toEqual(['INVALID_ADDRESS', 'INVALID_PREFIX', 'INVALID_RANGE']);

    const r = b.tryBuild();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(b.errors);

    const e = thrown(() => b.build());
    expect(e.code).toBe('INVALID_IP_SET');
    for (const v of ['"10.0.0.300"', '"10.0.0.0/33"', '"10.0.0.9-10.0.0.1"']) expect(e.message).toContain(v);
    expect(e.message).not.toContain('"10.0.0.1"');
    const inner = e.details.errors as readonly IpamError[];
    expect(inner).toHaveLength(3);
    inner.forEach((x, i) => {
      expect(x).toBe(b.errors[i]);
    });
  });

  it('errors returned by the builder cannot be changed from outside', () => {
    const b = new IPSetBuilder().add('bad');
    const errs = b.errors as IpamError[];
    expect(() => errs.pop()).toThrow(TypeError);
    expect(b.errors).toHaveLength(1);
  });

  it('IPSet.from throws INVALID_IP_SET listing every bad entry', () => {
    const e = thrown(() => IPSet.from(['10.0.0.0/24', 'nope', '1.2.3.4/40']));
    expect(e.code).toBe('INVALID_IP_SET');
    expect(e.message).toContain('"nope"');
    expect(e.message).toContain('"1.2.3.4/40"');
    expect(e.message).toContain('2 bad entries');
  });

  it.each([
    [4, [[5n, 1n]], '[5n, 1n]'],
    [4, [[0n, 1n << 32n]], '4294967296n'],
    [6, [[-1n, 0n]], '-1n'],
    [4, [[1, 2]], '[1, 2]'],
  ] as const)(
    'fromRanges(%i, ...) rejects an invalid pair with INVALID_RANGE naming it',
    (fam, pairs, shown) => {
      const e = thrown(() => IPSet.fromRanges(fam, pairs as unknown as [bigint, bigint][]));
      expect(e.code).toBe('INVALID_RANGE');
      expect(e.message).toContain(shown);
    },
  );

  it('fromRanges rejects a family other than 4 or 6', () => {
    const e = thrown(() => IPSet.fromRanges(5 as 4, []));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('5');
  });

  it('contains() throws INVALID_RANGE for a malformed IPRange instead of guessing', () => {
    const s = IPSet.from(['10.0.0.0/8']);
    expect(thrown(() => s.contains(range('10.0.0.9', '10.0.0.1'))).code).toBe('INVALID_RANGE');
  });
});

describe('builder and set operations (examples)', () => {
  it('applies additions and removals in call order', () => {
    const s = new IPSetBuilder().add('10.0.0.0/24').remove('10.0.0.0/25').add('10.0.0.1').build();
    expect(s.toString()).toBe('10.0.0.1,10.0.0.128-10.0.0.255');
    const t = new IPSetBuilder().add('10.0.0.1').remove('10.0.0.0/24').build();
    expect(t.isEmpty()).toBe(true);
  });

  it('addSet and removeSet work like add and remove of every member', () => {
    const a = IPSet.from(['10.0.0.0/30', '2001:db8::/127']);
    const s = new IPSetBuilder()
      .add('10.0.0.0/29')
      .removeSet(a)
      .addSet(IPSet.from(['10.0.0.1']))
      .build();
    expect(s.toString()).toBe('10.0.0.1,10.0.0.4-10.0.0.7');
  });

  it('the builder stays usable after build(), and built sets do not change', () => {
    const b = new IPSetBuilder().add('10.0.0.1');
    const first = b.build();
    const second = b.add('10.0.0.2').build();
    expect(first.toString()).toBe('10.0.0.1');
    expect(second.toString()).toBe('10.0.0.1-10.0.0.2');
  });

  it('difference cuts a range that spans two ranges of the left set', () => {
    const a = IPSet.from(['10.0.0.0-10.0.0.5', '10.0.0.10-10.0.0.15']);
    const b = IPSet.from(['10.0.0.4-10.0.0.11']);
    expect(a.difference(b).toString()).toBe('10.0.0.0-10.0.0.3,10.0.0.12-10.0.0.15');
    expect(a.intersection(b).toString()).toBe('10.0.0.4-10.0.0.5,10.0.0.10-10.0.0.11');
    expect(a.union(b).toString()).toBe('10.0.0.0-10.0.0.15');
  });

  it('contains and overlaps answer false across families', () => {
    const s = IPSet.from(['10.0.0.0/8']);
    expect(s.contains(parseAddr('10.1.2.3'))).toBe(true);
    expect(s.contains(parseAddr('2001:db8::1'))).toBe(false);
    expect(s.contains(parseAddr('::ffff:10.1.2.3'))).toBe(false);
    expect(s.contains(parsePrefix('::/0'))).toBe(false);
    expect(s.contains(range('2001:db8::1', '2001:db8::2'))).toBe(false);
    expect(s.contains(IPSet.from(['10.0.0.1', '2001:db8::1']))).toBe(false);
    expect(s.contains(IPSet.EMPTY)).toBe(true);
    expect(s.overlaps(IPSet.from(['2001:db8::/32']))).toBe(false);
    expect(s.overlaps(IPSet.from(['2001:db8::/32', '10.255.255.255']))).toBe(true);
  });

  it('contains() takes a Prefix with host bits as its masked range, like Prefix.contains', () => {
    const s = IPSet.from(['10.0.0.0/24']);
    expect(s.contains(Prefix.from(parseAddr('10.0.0.77'), 24))).toBe(true);
    expect(s.contains(Prefix.from(parseAddr('10.0.0.77'), 23))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests against a naive model: a universe of 64 IPv4 addresses (10.0.0.0/26) and 64 IPv6
// addresses (2001:db8::/122), numbered 0..63 and 64..127; a set is a Set of those numbers.

const SIDE = 64;
const BITS: Record<Fam, number> = { 4: 32, 6: 128 };
const MAX: Record<Fam, bigint> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };
const BASE: Record<Fam, bigint> = {
  4: parseAddr('10.0.0.0').toBigInt(),
  6: parseAddr('2001:db8::').toBigInt(),
};
const UNIVERSE = IPSet.from(['10.0.0.0/26', '2001:db8::/122']);
const ALL = Array.from({ length: 2 * SIDE }, (_, u) => u);

const indexOf = (fam: Fam, off: number) => (fam === 4 ? off : SIDE + off);
const addrAt = (fam: Fam, off: number) => Addr.fromBigInt(fam, BASE[fam] + BigInt(off));
const addrOfIndex = (u: number) => (u < SIDE ? addrAt(4, u) : addrAt(6, u - SIDE));
const span = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** One input in both forms (text and value) with the universe numbers it stands for. */
interface Entry {
  readonly text: string;
  readonly value: Addr | Prefix | IPRange;
  readonly asText: boolean;
  readonly members: readonly number[];
}

const entryArb: fc.Arbitrary<Entry> = fc
  .record({
    fam: fc.constantFrom<Fam>(4, 6),
    kind: fc.constantFrom('addr', 'range', 'prefix'),
    a: fc.integer({ min: 0, max: SIDE - 1 }),
    b: fc.integer({ min: 0, max: SIDE - 1 }),
    k: fc.integer({ min: 0, max: 6 }),
    asText: fc.boolean(),
  })
  .map(({ fam, kind, a, b, k, asText }): Entry => {
    if (kind === 'addr') {
      const x = addrAt(fam, a);
      return { text: x.toString(), value: x, asText, members: [indexOf(fam, a)] };
    }
    if (kind === 'range') {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const r = { from: addrAt(fam, lo), to: addrAt(fam, hi) };
      return {
        text: `${r.from}-${r.to}`,
        value: r,
        asText,
        members: span(lo, hi).map((o) => indexOf(fam, o)),
      };
    }
    const size = 2 ** k;
    const start = a - (a % size);
    const p = Prefix.from(addrAt(fam, start), BITS[fam] - k);
    const members = span(start, start + size - 1).map((o) => indexOf(fam, o));
    return { text: p.toString(), value: p, asText, members };
  });

interface Modelled {
  readonly set: IPSet;
  readonly model: ReadonlySet<number>;
}

/** A set built from random additions and removals, with the model built alongside. */
const modelledArb: fc.Arbitrary<Modelled> = fc
  .array(fc.record({ add: fc.integer({ min: 0, max: 3 }).map((n) => n > 0), entry: entryArb }), {
    maxLength: 10,
  })
  .map((ops) => {
    const b = new IPSetBuilder();
    const model = new Set<number>();
    for (const { add, entry } of ops) {
      const input: IPSetInput = entry.asText ? entry.text : entry.value;
      if (add) {
        b.add(input);
        for (const u of entry.members) model.add(u);
      } else {
        b.remove(input);
        for (const u of entry.members) model.delete(u);
      }
    }
    return { set: b.build(), model };
  });

const union = (a: ReadonlySet<number>, b: ReadonlySet<number>) => new Set([...a, ...b]);
const inter = (a: ReadonlySet<number>, b: ReadonlySet<number>) => new Set([...a].filter((u) => b.has(u)));
const minus = (a: ReadonlySet<number>, b: ReadonlySet<number>) => new Set([...a].filter((u) => !b.has(u)));

function expectMembers(set: IPSet, model: ReadonlySet<number>): void {
  expect(ALL.filter((u) => set.contains(addrOfIndex(u)))).toEqual([...model].sort((x, y) => x - y));
  // With every member inside the universe, equal sizes also rule out members outside it.
  expect(set.size()).toBe(BigInt(model.size));
}

function expectCanonical(set: IPSet): void {
  for (const fam of [4, 6] as const) {
    const rs = set.rangesOf(fam);
    rs.forEach(([lo, hi], i) => {
      expect(lo >= 0n && lo <= hi && hi <= MAX[fam]).toBe(true);
      if (i > 0) expect(rs[i - 1]![1] + 1n < lo).toBe(true); // sorted, disjoint and not touching
    });
    expect(set.families().includes(fam)).toBe(rs.length > 0);
  }
  expect(set.ranges().map((r) => [r.from.toBigInt(), r.to.toBigInt()])).toEqual([
    ...set.rangesOf(4),
    ...set.rangesOf(6),
  ]);
}

/** The maximal aligned blocks inside the model, found by splitting each universe block recursively. */
function referencePrefixes(model: ReadonlySet<number>): string[] {
  const out: string[] = [];
  for (const fam of [4, 6] as const) {
    const visit = (start: number, k: number): void => {
      const members = span(start, start + 2 ** k - 1).map((o) => indexOf(fam, o));
      if (members.every((u) => model.has(u))) {
        out.push(Prefix.from(addrAt(fam, start), BITS[fam] - k).toString());
      } else if (members.some((u) => model.has(u))) {
        visit(start, k - 1);
        visit(start + 2 ** (k - 1), k - 1);
      }
    };
    visit(0, 6);
  }
  return out;
}

/** Sets of random full-width ranges of one family, edges of the address space included. */
const wideArb: fc.Arbitrary<{ fam: Fam; set: IPSet }> = fc.constantFrom<Fam>(4, 6).chain((fam) => {
  const value = fc.oneof(
    fc.bigInt({ min: 0n, max: MAX[fam] }),
    fc.constantFrom(0n, 1n, MAX[fam] - 1n, MAX[fam], 1n << BigInt(BITS[fam] - 1)),
  );
  return fc
    .array(
      fc.tuple(value, value).map(([a, b]) => (a <= b ? ([a, b] as const) : ([b, a] as const))),
      { maxLength: 5 },
    )
    .map((pairs) => ({ fam, set: IPSet.fromRanges(fam, pairs) }));
});

describe('IPSet properties', () => {
  it('a builder applying random additions and removals in order has exactly the members of the model', () => {
    fc.assert(
      fc.property(modelledArb, ({ set, model }) => {
        expectMembers(set, model);
      }),
    );
  });

  it('every built set and every result of union, intersection and difference keeps ranges sorted, disjoint and non-adjacent', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, (a, b) => {
        for (const s of [a.set, a.set.union(b.set), a.set.intersection(b.set), a.set.difference(b.set)]) {
          expectCanonical(s);
        }
      }),
    );
  });

  it('union, intersection and difference have exactly the members of the model set operations', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, (a, b) => {
        expectMembers(a.set.union(b.set), union(a.model, b.model));
        expectMembers(a.set.intersection(b.set), inter(a.model, b.model));
        expectMembers(a.set.difference(b.set), minus(a.model, b.model));
      }),
    );
  });

  it('union and intersection are commutative and associative', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, modelledArb, (a, b, c) => {
        expect(a.set.union(b.set).equals(b.set.union(a.set))).toBe(true);
        expect(a.set.intersection(b.set).equals(b.set.intersection(a.set))).toBe(true);
        expect(
          a.set
            .union(b.set)
            .union(c.set)
            .equals(a.set.union(b.set.union(c.set))),
        ).toBe(true);
        const i1 = a.set.intersection(b.set).intersection(c.set);
        expect(i1.equals(a.set.intersection(b.set.intersection(c.set)))).toBe(true);
      }),
    );
  });

  it('De Morgan relative to the universe U: U \\ (A ∪ B) = (U \\ A) ∩ (U \\ B) and U \\ (A ∩ B) = (U \\ A) ∪ (U \\ B)', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, ({ set: a }, { set: b }) => {
        const notA = UNIVERSE.difference(a);
        const notB = UNIVERSE.difference(b);
        expect(UNIVERSE.difference(a.union(b)).equals(notA.intersection(notB))).toBe(true);
        expect(UNIVERSE.difference(a.intersection(b)).equals(notA.union(notB))).toBe(true);
      }),
    );
  });

  it('A \\ B and A ∩ B split A into two parts that do not overlap', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, ({ set: a }, { set: b }) => {
        const d = a.difference(b);
        const i = a.intersection(b);
        expect(d.union(i).equals(a)).toBe(true);
        expect(d.overlaps(i)).toBe(false);
        expect(d.size() + i.size()).toBe(a.size());
        expect(d.overlaps(b)).toBe(false);
      }),
    );
  });

  it('a set contains an address, prefix, range or set exactly when the model has all its members, and overlaps exactly when the models share one', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, entryArb, (a, b, e) => {
        expect(a.set.contains(e.value)).toBe(e.members.every((u) => a.model.has(u)));
        expect(a.set.contains(b.set)).toBe([...b.model].every((u) => a.model.has(u)));
        expect(a.set.overlaps(b.set)).toBe([...b.model].some((u) => a.model.has(u)));
        expect(a.set.contains(a.set.intersection(b.set))).toBe(true);
        expect(a.set.union(b.set).contains(b.set)).toBe(true);
      }),
    );
  });

  it('sets with the same members are equal and print the same, however they were built', () => {
    fc.assert(
      fc.property(modelledArb, ({ set, model }) => {
        // Rebuild from single addresses in reverse order: adjacent ones must coalesce into the same ranges.
        const byAddress = [...model].sort((x, y) => y - x).map(addrOfIndex);
        const v4 = byAddress.filter((x) => x.is4()).map((x) => [x.toBigInt(), x.toBigInt()] as const);
        const v6 = byAddress.filter((x) => x.is6()).map((x) => [x.toBigInt(), x.toBigInt()] as const);
        const viaRanges = IPSet.fromRanges(4, v4).union(IPSet.fromRanges(6, v6));
        const viaBuilder = IPSet.from(byAddress);
        for (const other of [viaRanges, viaBuilder]) {
          expect(other.equals(set)).toBe(true);
          expect(other.toString()).toBe(set.toString());
        }
        expectCanonical(viaRanges);
      }),
    );
  });

  it('fromRanges normalises pairs in any order, overlapping or adjacent, to the set the builder makes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Fam>(4, 6),
        fc.array(fc.tuple(fc.integer({ min: 0, max: SIDE - 1 }), fc.integer({ min: 0, max: SIDE - 1 }))),
        (fam, offs) => {
          const pairs = offs.map(
            ([x, y]) => [BASE[fam] + BigInt(Math.min(x, y)), BASE[fam] + BigInt(Math.max(x, y))] as const,
          );
          const s = IPSet.fromRanges(fam, pairs);
          expectCanonical(s);
          const model = new Set(
            offs.flatMap(([x, y]) => span(Math.min(x, y), Math.max(x, y)).map((o) => indexOf(fam, o))),
          );
          expectMembers(s, model);
          const built = IPSet.from(
            pairs.map(([lo, hi]) => ({ from: Addr.fromBigInt(fam, lo), to: Addr.fromBigInt(fam, hi) })),
          );
          expect(built.equals(s)).toBe(true);
        },
      ),
    );
  });

  it('addSet and removeSet give the same sets as union and difference', () => {
    fc.assert(
      fc.property(modelledArb, modelledArb, modelledArb, ({ set: a }, { set: b }, { set: c }) => {
        const built = new IPSetBuilder().addSet(a).removeSet(b).addSet(c).build();
        expect(built.equals(a.difference(b).union(c))).toBe(true);
      }),
    );
  });

  it('prefixes() is exactly the maximal aligned blocks of the set (compared with a recursive reference)', () => {
    fc.assert(
      fc.property(modelledArb, ({ set, model }) => {
        expect(set.prefixes().map(String)).toEqual(referencePrefixes(model));
      }),
    );
  });

  it('prefixes() of wide ranges are masked, sorted, disjoint, cover exactly the set, and no two are mergeable siblings (hence minimal)', () => {
    fc.assert(
      fc.property(wideArb, ({ fam, set }) => {
        const ps = set.prefixes();
        let total = 0n;
        ps.forEach((p, i) => {
          expect(p.family).toBe(fam);
          expect(p.isMasked()).toBe(true);
          total += p.size();
          const prev = ps[i - 1];
          if (prev === undefined) return;
          expect(prev.last().compare(p.first())).toBe(-1);
          // Two disjoint sorted blocks can only be siblings if they are neighbours in the list.
          if (prev.bits === p.bits && p.bits > 0) expect(prev.supernet().equals(p.supernet())).toBe(false);
        });
        expect(total).toBe(set.size());
        expect(IPSet.from(ps).equals(set)).toBe(true);
      }),
    );
  });

  it('toString and toJSON round-trip through IPSet.from', () => {
    const check = (set: IPSet) => {
      expect(set.toString()).toBe(set.toJSON().join(','));
      expect(IPSet.from(set.toJSON()).equals(set)).toBe(true);
      expect(IPSet.from(set.toString() === '' ? [] : set.toString().split(',')).equals(set)).toBe(true);
      expect(JSON.parse(JSON.stringify(set))).toEqual(set.toJSON());
    };
    fc.assert(fc.property(modelledArb, ({ set }) => check(set)));
    fc.assert(fc.property(wideArb, ({ set }) => check(set)));
  });
});
