import { parsePrefix } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findOverlaps } from './overlaps';
import { thrown } from './test-support';

describe('findOverlaps', () => {
  it('reports the clusters whose pod or service CIDRs overlap, both families, and nothing else', () => {
    const got = findOverlaps([
      { id: 'west', podCidrs: ['10.0.0.0/16', 'fd00:10::/64'], serviceCidrs: ['100.0.0.0/16'] },
      { id: 'east', podCidrs: ['10.0.0.0/16', 'fd00:10::/56'], serviceCidrs: ['100.0.0.0/16'] },
      { id: 'north', podCidrs: ['10.1.0.0/16'], serviceCidrs: ['100.0.128.0/17'] },
      { id: 'south', podCidrs: ['10.9.0.0/16'], serviceCidrs: ['10.10.0.0/16'] },
    ]);
    expect(got).toEqual([
      {
        a: 'east',
        b: 'north',
        cidrs: [{ a: '100.0.0.0/16', aKind: 'service', b: '100.0.128.0/17', bKind: 'service' }],
      },
      {
        a: 'east',
        b: 'west',
        cidrs: [
          { a: '10.0.0.0/16', aKind: 'pod', b: '10.0.0.0/16', bKind: 'pod' },
          { a: '100.0.0.0/16', aKind: 'service', b: '100.0.0.0/16', bKind: 'service' },
          { a: 'fd00:10::/56', aKind: 'pod', b: 'fd00:10::/64', bKind: 'pod' },
        ],
      },
      {
        a: 'north',
        b: 'west',
        cidrs: [{ a: '100.0.128.0/17', aKind: 'service', b: '100.0.0.0/16', bKind: 'service' }],
      },
    ]);
  });

  it('rejects duplicate ids and bad CIDRs', () => {
    thrown(() => findOverlaps([{ id: 'a' }, { id: 'a' }]), 'INVALID_ARGUMENT');
    const e = thrown(() => findOverlaps([{ id: 'a', podCidrs: ['10.0.0.1/16'] }]), 'INVALID_CIDR');
    expect(e.message).toContain('10.0.0.1/16');
  });

  it('agrees with a pairwise check on random clusters', () => {
    const cidr = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 24 }))
      .map(([o, bits]) => parsePrefix(`10.${o}.0.0/${bits}`, { mask: true }).toString());
    fc.assert(
      fc.property(fc.array(fc.array(cidr, { maxLength: 3 }), { maxLength: 6 }), (lists) => {
        const clusters = lists.map((l, i) => ({ id: `c${i}`, podCidrs: l }));
        const want = new Set<string>();
        for (let i = 0; i < lists.length; i++)
          for (let j = i + 1; j < lists.length; j++)
            for (const x of lists[i]!)
              for (const y of lists[j]!) if (parsePrefix(x).overlaps(parsePrefix(y))) want.add(`c${i}|c${j}`);
        const got = new Set(findOverlaps(clusters).map((o) => `${o.a}|${o.b}`));
        expect([...got].sort()).toEqual([...want].sort());
      }),
    );
  });
});
