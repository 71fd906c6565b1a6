import { parsePrefix } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateClusterCidr, type ClusterAllotments, releaseClusterCidr } from './allot';
import { frozen, thrown } from './test-support';

describe('allocateClusterCidr', () => {
  it('gives each cluster the lowest free /16 of 242.0.0.0/8 by default and the same one again', () => {
    const a = allocateClusterCidr(frozen({}), 'east');
    expect(a).toEqual({ allotments: { east: ['242.0.0.0/16'] }, cidr: '242.0.0.0/16', changed: true });
    const b = allocateClusterCidr(frozen(a.allotments), 'west');
    expect(b.cidr).toBe('242.1.0.0/16');
    const again = allocateClusterCidr(frozen(b.allotments), 'east');
    expect(again).toEqual({ allotments: b.allotments, cidr: '242.0.0.0/16', changed: false });
  });

  it('rounds the size up to a power of two and aligns the block', () => {
    let rec: ClusterAllotments = {};
    rec = allocateClusterCidr(rec, 'a', { size: 100 }).allotments; // a /25
    const b = allocateClusterCidr(rec, 'b', { size: 4096 });
    expect(rec.a).toEqual(['242.0.0.0/25']);
    expect(b.cidr).toBe('242.0.16.0/20');
    const c = allocateClusterCidr(b.allotments, 'c', { size: 128 });
    expect(c.cidr).toBe('242.0.0.128/25');
  });

  it('serves a clusterset IP range (243.0.0.0/8, 4,096 per cluster) in the same record', () => {
    let rec = allocateClusterCidr({}, 'east').allotments;
    const r = allocateClusterCidr(rec, 'east', { range: '243.0.0.0/8', size: 4096 });
    rec = r.allotments;
    expect(r.cidr).toBe('243.0.0.0/20');
    expect(rec.east).toEqual(['242.0.0.0/16', '243.0.0.0/20']);
    expect(releaseClusterCidr(rec, 'east', { range: '243.0.0.0/8' })).toEqual({
      allotments: { east: ['242.0.0.0/16'] },
      released: ['243.0.0.0/20'],
    });
  });

  it('splits an IPv6 ULA /48 into /64s', () => {
    let rec: ClusterAllotments = {};
    const got: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      const r = allocateClusterCidr(rec, id, { range: 'fd42:0:1::/48' });
      rec = r.allotments;
      got.push(r.cidr);
    }
    expect(got).toEqual(['fd42:0:1::/64', 'fd42:0:1:1::/64', 'fd42:0:1:2::/64']);
    expect(allocateClusterCidr(rec, 'd', { range: 'fd42:0:1::/48', size: 2n ** 72n }).cidr).toBe(
      'fd42:0:1:100::/56',
    );
    // A whole number above 2^53 is still a size (a JS number holds powers of two exactly).
    expect(allocateClusterCidr({}, 'e', { range: 'fd42:0:1::/48', size: 2 ** 64 }).cidr).toBe(
      'fd42:0:1::/64',
    );
    thrown(() => allocateClusterCidr({}, 'e', { range: 'fd42:0:1::/48', size: 2 ** 80 }), 'BLOCK_TOO_LARGE');
  });

  it('honours an explicit cidr and names the cluster holding an overlapping one', () => {
    const rec = allocateClusterCidr({}, 'east', { cidr: '242.7.0.0/16' }).allotments;
    expect(rec).toEqual({ east: ['242.7.0.0/16'] });
    const e = thrown(() => allocateClusterCidr(rec, 'west', { cidr: '242.7.128.0/17' }), 'CIDR_OVERLAP');
    expect(e.details).toMatchObject({ cluster: 'east', held: '242.7.0.0/16' });
    expect(e.message).toContain('"east"');
    expect(allocateClusterCidr(rec, 'west').cidr).toBe('242.0.0.0/16');
  });

  it('rejects bad input with typed errors and never changes the input', () => {
    const rec = frozen({ east: ['242.0.0.0/16'] });
    thrown(() => allocateClusterCidr(rec, 'x', { size: 2 ** 23 + 1 }), 'BLOCK_TOO_LARGE');
    thrown(() => allocateClusterCidr(rec, 'x', { size: 0 }), 'INVALID_ARGUMENT');
    thrown(() => allocateClusterCidr(rec, 'x', { cidr: '242.0.0.0/8' }), 'BLOCK_TOO_LARGE');
    thrown(() => allocateClusterCidr(rec, 'x', { cidr: '10.0.0.0/16' }), 'OUT_OF_RANGE');
    thrown(() => allocateClusterCidr(rec, 'x', { cidr: 'fd00::/64' }), 'FAMILY_MISMATCH');
    thrown(() => allocateClusterCidr(rec, 'x', { cidr: '242.0.0.1/16' }), 'INVALID_CIDR');
    thrown(() => allocateClusterCidr(rec, 'east', { cidr: '242.9.0.0/16' }), 'ALREADY_ALLOTTED');
    thrown(() => allocateClusterCidr(rec, 'east', { size: 256 }), 'ALREADY_ALLOTTED');
    thrown(() => allocateClusterCidr(rec, '', {}), 'INVALID_ARGUMENT');
    thrown(() => allocateClusterCidr({ bad: ['nope'] }, 'x'), 'INVALID_ALLOTMENTS');
    thrown(() => allocateClusterCidr({ bad: 'x' } as never, 'x'), 'INVALID_ALLOTMENTS');
    thrown(() => allocateClusterCidr(rec, 'x', null as never), 'INVALID_ARGUMENT');
    const corrupt = frozen({ a: ['242.0.0.0/16'], b: ['242.0.0.0/17'] });
    const e = thrown(() => allocateClusterCidr(corrupt, 'c'), 'INVALID_ALLOTMENTS');
    expect(e.message).toContain('242.0.0.0/17');
    thrown(() => allocateClusterCidr(corrupt, 'c', { cidr: '242.9.0.0/16' }), 'INVALID_ALLOTMENTS');
    // Overlaps outside the range asked for are another range's business.
    expect(allocateClusterCidr(corrupt, 'c', { range: '243.0.0.0/8' }).cidr).toBe('243.0.0.0/16');
    thrown(() => releaseClusterCidr(rec, 'x', null as never), 'INVALID_ARGUMENT');
    expect(rec).toEqual({ east: ['242.0.0.0/16'] });
  });

  it('says RANGE_EXHAUSTED when no aligned block is left', () => {
    let rec: ClusterAllotments = {};
    rec = allocateClusterCidr(rec, 'a', { range: '10.0.0.0/24', size: 128 }).allotments;
    rec = allocateClusterCidr(rec, 'b', { range: '10.0.0.0/24', size: 64 }).allotments;
    expect(allocateClusterCidr(rec, 'c', { range: '10.0.0.0/24', size: 64 }).cidr).toBe('10.0.0.192/26');
    thrown(() => allocateClusterCidr(rec, 'd', { range: '10.0.0.0/24', size: 128 }), 'RANGE_EXHAUSTED');
  });
});

describe('allotment properties', () => {
  const cmd = fc.oneof(
    fc.record({
      op: fc.constant('alloc' as const),
      id: fc.integer({ min: 0, max: 7 }),
      size: fc.integer({ min: 1, max: 300 }),
    }),
    fc.record({
      op: fc.constant('explicit' as const),
      id: fc.integer({ min: 0, max: 7 }),
      slot: fc.integer({ min: 0, max: 15 }),
      bits: fc.integer({ min: 21, max: 28 }),
    }),
    fc.record({ op: fc.constant('release' as const), id: fc.integer({ min: 0, max: 7 }) }),
  );

  it('allotments never overlap, are aligned, lie in the range, and a failed call changes nothing', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        const range = '10.0.0.0/20';
        let rec: ClusterAllotments = {};
        for (const c of cmds) {
          const before = JSON.stringify(rec);
          try {
            if (c.op === 'release') rec = releaseClusterCidr(frozen(rec), `c${c.id}`, { range }).allotments;
            else if (c.op === 'alloc')
              rec = allocateClusterCidr(frozen(rec), `c${c.id}`, { range, size: c.size }).allotments;
            else {
              const base = 10 * 2 ** 24 + ((c.slot << (32 - c.bits)) % 2 ** 12);
              const text = `10.0.${(base >>> 8) & 255}.${base & 255}/${c.bits}`;
              rec = allocateClusterCidr(frozen(rec), `c${c.id}`, { range, cidr: text }).allotments;
            }
          } catch (e) {
            expect(JSON.stringify(rec)).toBe(before);
            expect((e as { code?: string }).code).toMatch(
              /RANGE_EXHAUSTED|CIDR_OVERLAP|ALREADY_ALLOTTED|INVALID_CIDR/,
            );
          }
          const all = Object.entries(rec).flatMap(([id, l]) => l.map((t) => ({ id, p: parsePrefix(t) })));
          for (const x of all) {
            expect(parsePrefix(range).contains(x.p)).toBe(true);
            expect(x.p.isMasked()).toBe(true);
          }
          for (let i = 0; i < all.length; i++) {
            for (let j = i + 1; j < all.length; j++) expect(all[i]!.p.overlaps(all[j]!.p)).toBe(false);
          }
          for (const l of Object.values(rec)) expect(l.length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('picks the lowest aligned free block (checked against a brute-force search)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 200 }),
        (sizes, size) => {
          const range = '10.0.0.0/22';
          let rec: ClusterAllotments = {};
          sizes.forEach((s, i) => {
            try {
              rec = allocateClusterCidr(rec, `c${i}`, { range, size: s }).allotments;
            } catch {}
          });
          const hostBits = Math.ceil(Math.log2(size));
          const step = 2 ** hostBits;
          const taken = Object.values(rec).flatMap((l) => l.map((t) => parsePrefix(t)));
          let expected: string | undefined;
          for (let start = 0; start + step <= 1024; start += step) {
            const p = parsePrefix(`10.0.${start >> 8}.${start & 255}/${32 - hostBits}`);
            if (!taken.some((t) => t.overlaps(p))) {
              expected = p.toString();
              break;
            }
          }
          let got: string | undefined;
          try {
            got = allocateClusterCidr(rec, 'new', { range, size }).cidr;
          } catch {}
          expect(got).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
