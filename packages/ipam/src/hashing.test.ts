import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hashString,
  type OffsetIndex,
  PagedIndex,
  PairMap,
  StringTable,
  sampledHash,
  wideHash,
} from './hashing';

// Keys: extremes, neighbours and a spread of values, so that clusters form in small tables.
const PAIR_KEYS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [0, 1],
  [1, 0],
  [0, 0xffff_ffff],
  [0xffff_ffff, 0],
  [0xffff_ffff, 0xffff_ffff],
  [0x8000_0000, 0],
  [0, 0x8000_0000],
  ...Array.from({ length: 40 }, (_, i) => [i % 3, Math.imul(i + 1, 0x9e37_79b1) >>> 0] as const),
];

/** Keys [0, lo] for indexes of dense pools (hi is always 0 there), without repeats. */
function distinctLo(los: readonly number[]): ReadonlyArray<readonly [number, number]> {
  return [...new Set(los)].map((lo) => [0, lo] as const);
}

// The two address indexes share one contract; each is checked on the keys it is meant for.
const INDEXES: ReadonlyArray<{
  name: string;
  make: (expected: number) => OffsetIndex;
  keys: ReadonlyArray<readonly [number, number]>;
}> = [
  { name: 'PairMap', make: (n) => new PairMap(n), keys: PAIR_KEYS },
  {
    name: 'PagedIndex',
    make: () => new PagedIndex(1 << 24),
    keys: distinctLo(PAIR_KEYS.map(([hi, lo]) => (lo ^ hi) & 0xff_ffff)),
  },
];

describe.each(INDEXES)('$name against a JS Map', ({ make, keys: INDEX_KEYS }) => {
  it('stores the largest entry number, 2^31 - 1, and tells it from an absent key', () => {
    const m = make(4);
    const [hi, lo] = INDEX_KEYS[1]!;
    m.set(hi, lo, 0x7fff_ffff);
    expect(m.get(hi, lo)).toBe(0x7fff_ffff);
    expect(m.get(...INDEX_KEYS[2]!)).toBe(-1);
  });

  it('the test keys are distinct', () => {
    expect(new Set(INDEX_KEYS.map(([hi, lo]) => `${hi}:${lo}`)).size).toBe(INDEX_KEYS.length);
  });

  type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      key: fc.nat(INDEX_KEYS.length - 1),
      value: fc.nat(0x7fff_ffff),
    }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.nat(INDEX_KEYS.length - 1) }),
  );

  it('get, set, delete and size agree with a Map after every step, through deletions and growth', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.constantFrom(1, 4, 16), (ops, expected) => {
        const m = make(expected);
        const model = new Map<number, number>();
        for (const o of ops) {
          const [hi, lo] = INDEX_KEYS[o.key]!;
          if (o.kind === 'set') {
            m.set(hi, lo, o.value);
            model.set(o.key, o.value);
          } else {
            expect(m.delete(hi, lo)).toBe(model.delete(o.key));
          }
          expect(m.size).toBe(model.size);
          const got = INDEX_KEYS.map(([h, l]) => m.get(h, l));
          expect(got).toEqual(INDEX_KEYS.map((_, i) => model.get(i) ?? -1));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('deleting any key of a crowded small table, in any order, leaves every other key findable', () => {
    // Seven keys in a 16-slot table form clusters, some wrapping past the last slot; every deletion
    // shifts the rest of its cluster back.
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(INDEX_KEYS.length - 1), { minLength: 7, maxLength: 7 }),
        fc.func(fc.integer()),
        (keys, order) => {
          const m = make(8);
          keys.forEach((k, v) => {
            m.set(...INDEX_KEYS[k]!, v);
          });
          const left = new Map(keys.map((k, v) => [k, v]));
          for (const k of [...keys].sort((x, y) => order(x) - order(y) || x - y)) {
            expect(m.delete(...INDEX_KEYS[k]!)).toBe(true);
            left.delete(k);
            expect(keys.map((j) => m.get(...INDEX_KEYS[j]!))).toEqual(keys.map((j) => left.get(j) ?? -1));
          }
          expect(m.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every one of 20,000 keys through growth and deletion of half of them', () => {
    const m = make(16);
    const model = new Map<string, number>();
    const wide = INDEX_KEYS.some(([hi]) => hi !== 0);
    const dense = INDEX_KEYS.every(([, lo]) => lo < 1 << 24);
    const key = (i: number): [number, number] =>
      dense ? [0, (i * 7919) & 0xff_ffff] : [wide ? i % 7 : 0, Math.imul(i, 0x9e37_79b1) >>> 0];
    for (let i = 0; i < 20_000; i++) {
      const [hi, lo] = key(i);
      m.set(hi, lo, i);
      model.set(`${hi}:${lo}`, i);
    }
    for (let i = 0; i < 20_000; i += 2) {
      expect(m.delete(...key(i))).toBe(true);
      model.delete(key(i).join(':'));
    }
    expect(m.size).toBe(model.size);
    let wrong = 0;
    for (let i = 0; i < 20_000; i++) {
      const want = i % 2 === 0 ? -1 : i;
      if (m.get(...key(i)) !== want) wrong++;
    }
    expect(wrong).toBe(0);
    expect(m.byteSize()).toBeGreaterThan(0);
  });
});

describe('StringTable against a JS Map', () => {
  const KEYS = [
    '',
    'a',
    'b',
    'ab',
    'ba',
    'abc',
    'abd',
    'pod-1',
    'pod-10',
    'pod-2',
    'ünïcödé',
    '😀',
    'kube-system/coredns',
    '0f8e3c1a-6b1d-4c2e-9a7f-2d3b4c5d6e7f',
    ...Array.from({ length: 30 }, (_, i) => `default/pod-${i}`),
    // Same length, first 4 and last 12 units: these collide on the sampled and the wide hash.
    ...Array.from({ length: 12 }, (_, i) => `pod/team-${String.fromCharCode(97 + i)}-prod/web-frontend-0`),
  ];
  type Op = { kind: 'insert'; key: number; viaFind: boolean } | { kind: 'remove'; key: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), key: fc.nat(KEYS.length - 1), viaFind: fc.boolean() }),
    fc.record({ kind: fc.constant('remove' as const), key: fc.nat(KEYS.length - 1) }),
  );

  it('find, insert, remove, keyOf and entries agree with a Map, and entry numbers are reused', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.constantFrom(1, 8, 32), (ops, expected) => {
        const t = new StringTable(expected);
        const model = new Map<string, number>();
        let mostLive = 0;
        for (const o of ops) {
          const key = KEYS[o.key]!;
          const present = model.get(key);
          if (o.kind === 'insert') {
            if (present !== undefined) {
              expect(t.find(key)).toBe(present);
              continue;
            }
            const before = t.capacity;
            let e: number;
            if (o.viaFind) {
              expect(t.find(key)).toBe(-1);
              e = t.insertAfterFind(key);
            } else {
              e = t.insert(key);
            }
            expect([...model.values()]).not.toContain(e);
            // A freed number is handed out again before a new one is made.
            if (model.size < before) expect(e).toBeLessThan(before);
            else expect(e).toBe(before);
            model.set(key, e);
            mostLive = Math.max(mostLive, model.size);
          } else if (present !== undefined) {
            t.remove(present);
            model.delete(key);
            expect(t.keyOf(present)).toBeUndefined();
          }
          expect(t.size).toBe(model.size);
          expect(t.capacity).toBe(mostLive);
          expect(KEYS.map((k) => t.find(k))).toEqual(KEYS.map((k) => model.get(k) ?? -1));
          expect([...model].every(([k, e]) => t.keyOf(e) === k)).toBe(true);
          expect([...t.entries()].sort((x, y) => x - y)).toEqual([...model.values()].sort((x, y) => x - y));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('colliding keys stay findable when a cluster that wraps around the table end loses members', () => {
    // A table made for 8 keys has 16 slots: keys whose hash ends in 0xf all start probing at the last slot.
    const t = new StringTable(8);
    const atEnd: string[] = [];
    for (let i = 0; atEnd.length < 4; i++) if ((hashString(`k${i}`) & 15) === 15) atEnd.push(`k${i}`);
    const near = ['a', 'b', 'c'];
    const entries = [...atEnd, ...near].map((k) => t.insert(k));
    t.remove(entries[0]!);
    t.remove(entries[2]!);
    expect([...atEnd, ...near].map((k) => t.find(k))).toEqual([-1, entries[1], -1, ...entries.slice(3)]);
    expect([entries[0], entries[2]]).toContain(t.insert('k-new'));
    expect(t.find('k-new')).toBeGreaterThanOrEqual(0);
    expect(t.find(atEnd[3]!)).toBe(entries[3]);
  });

  it('keeps 20,000 owner keys through growth, removal of half and reinsertion', () => {
    const t = new StringTable();
    const entry = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) entry.set(`pod-${i}`, t.insert(`pod-${i}`));
    for (let i = 0; i < 20_000; i += 2) t.remove(entry.get(`pod-${i}`)!);
    let wrong = 0;
    for (let i = 0; i < 20_000; i++)
      if (t.find(`pod-${i}`) !== (i % 2 === 0 ? -1 : entry.get(`pod-${i}`))) wrong++;
    expect(wrong).toBe(0);
    const again = Array.from({ length: 10_000 }, (_, i) => t.insert(`again-${i}`));
    expect(t.capacity).toBe(20_000);
    expect(t.size).toBe(20_000);
    // The freed numbers come back, each once: the reinserted keys and the kept ones all have their own.
    expect(new Set(again).size).toBe(10_000);
    expect(again.every((e, i) => t.find(`again-${i}`) === e && t.keyOf(e) === `again-${i}`)).toBe(true);
    let lost = 0;
    for (let i = 1; i < 20_000; i += 2) if (t.keyOf(entry.get(`pod-${i}`)!) !== `pod-${i}`) lost++;
    expect(lost).toBe(0);
  });
});

describe('StringTable with keys that differ only in the middle', () => {
  const key = (i: number) => `pod/tenant-${String(i).padStart(5, '0')}-namespace/web-frontend-0`;

  it('they collide on the sampled and the wide hash, which read only the ends', () => {
    expect(sampledHash(key(1))).toBe(sampledHash(key(2)));
    expect(wideHash(key(1))).toBe(wideHash(key(2)));
    expect(hashString(key(1))).not.toBe(hashString(key(2)));
  });

  it('the table moves up to full hashing, and every key stays findable and removable', () => {
    const t = new StringTable();
    expect(t.hashing).toBe('sampled');
    const entries: number[] = [];
    for (let i = 0; i < 100; i++) {
      expect(t.find(key(i))).toBe(-1);
      entries.push(t.insertAfterFind(key(i)));
    }
    expect(t.hashing).toBe('full');
    for (let i = 0; i < 100; i++) expect(t.find(key(i))).toBe(entries[i]);
    for (let i = 0; i < 100; i += 2) t.remove(entries[i]!);
    for (let i = 0; i < 100; i++) expect(t.find(key(i))).toBe(i % 2 === 0 ? -1 : entries[i]);
    expect(t.size).toBe(50);
  });
});

describe('StringTable hashing of common owner-key shapes', () => {
  const hex = (x: number, len: number) => (x >>> 0).toString(16).padStart(len, '0').slice(-len);
  const uid = (i: number) =>
    `${hex(Math.imul(i, 0x9e3779b1), 8)}-1b2c-4d3e-8f4a-${hex(Math.imul(i + 7, 0x85ebca6b), 4)}${hex(Math.imul(i + 3, 0xc2b2ae35), 8)}`;
  const fill = (keys: string[]): StringTable => {
    const t = new StringTable();
    const entries = keys.map((k) => {
      expect(t.find(k)).toBe(-1);
      return t.insertAfterFind(k);
    });
    for (const [i, k] of keys.entries()) expect(t.find(k)).toBe(entries[i]);
    expect(t.size).toBe(keys.length);
    return t;
  };
  const n = 20_000;
  const alnum = 'bcdfghjklmnpqrstvwxz2456789';
  const podName = (i: number) => {
    let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    let suffix = '';
    for (let k = 0; k < 5; k++, x = Math.floor(x / alnum.length)) suffix += alnum[x % alnum.length];
    return `pod/shop/web-7d9f8b6c4-${suffix}`;
  };

  it('pod UIDs, pod names and endpoint addresses stay on the sampled hash', () => {
    expect(fill(Array.from({ length: n }, (_, i) => uid(i))).hashing).toBe('sampled');
    expect(new Set(Array.from({ length: n }, (_, i) => podName(i))).size).toBe(n);
    expect(fill(Array.from({ length: n }, (_, i) => podName(i))).hashing).toBe('sampled');
    const ep = (i: number) => `ep/shop/web/10.244.${i >> 8}.${i & 255}`;
    expect(fill(Array.from({ length: n }, (_, i) => ep(i))).hashing).toBe('sampled');
  });

  it('a UID followed by a NIC name moves to the wide hash, not to full hashing', () => {
    const keys = Array.from({ length: n }, (_, i) => `${uid(i)}/net1`);
    const t = fill(keys);
    expect(t.hashing).toBe('wide');
    for (let i = 0; i < n; i += 2) t.remove(t.find(keys[i]!));
    for (let i = 0; i < n; i++) expect(t.find(keys[i]!) >= 0).toBe(i % 2 === 1);
  });
});

describe('sampledHash and wideHash', () => {
  const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
  const text = (min: number, max: number) =>
    fc.array(unit, { minLength: min, maxLength: max }).map((a) => a.join(''));
  /** Two strings of one length, 1 to 30 units. */
  const twins = fc.integer({ min: 1, max: 30 }).chain((len) => fc.tuple(text(len, len), text(len, len)));

  it('sampledHash reads only the length and the last 8 units, and hashes keys up to 8 in full', () => {
    fc.assert(
      fc.property(twins, text(8, 8), ([a, b], tail) => {
        expect(sampledHash(a + tail)).toBe(sampledHash(b + tail));
      }),
    );
    fc.assert(
      fc.property(text(0, 8), (s) => {
        expect(sampledHash(s)).toBe(hashString(s));
      }),
    );
    // Each of the last 8 units and the length count.
    const base = 'pod/shop/web-0000000';
    const seen = new Set([sampledHash(base), sampledHash(`${base}0`)]);
    for (let i = base.length - 8; i < base.length; i++)
      seen.add(sampledHash(`${base.slice(0, i)}1${base.slice(i + 1)}`));
    expect(seen.size).toBe(10);
  });

  it('wideHash reads only the length, the first 4 and the last 12 units, and hashes keys up to 16 in full', () => {
    fc.assert(
      fc.property(text(4, 4), twins, text(12, 12), (head, [a, b], tail) => {
        expect(wideHash(head + a + tail)).toBe(wideHash(head + b + tail));
      }),
    );
    fc.assert(
      fc.property(text(0, 16), (s) => {
        expect(wideHash(s)).toBe(hashString(s));
      }),
    );
    const base = '0f8e3c1a-6b1d-4c2e-9a7f-2d3b4c5d6e7f/net1';
    const seen = new Set([wideHash(base)]);
    for (const i of [0, 1, 2, 3, ...Array.from({ length: 12 }, (_, k) => base.length - 12 + k)])
      seen.add(wideHash(`${base.slice(0, i)}#${base.slice(i + 1)}`));
    expect(seen.size).toBe(17);
  });
});

describe('hashString', () => {
  it('is a deterministic int32 that depends on every UTF-16 unit, including an odd last one', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'ünïcödé', '😀']) {
      const h = hashString(s);
      expect(hashString(s.slice())).toBe(h);
      expect(h | 0).toBe(h);
    }
    expect(hashString('abc')).not.toBe(hashString('abd'));
    expect(hashString('a')).not.toBe(hashString('b'));
    expect(hashString('ab')).not.toBe(hashString('ac'));
    expect(hashString('')).not.toBe(hashString('\u0000'));
  });
});
