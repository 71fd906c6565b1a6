import { Addr, type Prefix, parseAddr, parsePrefix } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PeerPrefixes, planRemap, type RemapPlan, remapAddress } from './remap';
import { planRemapNat } from './remap-nat';
import { renderNft } from './render-nft';
import { frozen, thrown } from './test-support';

const LOCAL = ['10.0.0.0/16', '10.96.0.0/12'];

describe('planRemap', () => {
  it('remaps only overlapping prefixes, to the lowest free prefix of the same length', () => {
    const plan = planRemap(
      frozen(LOCAL),
      frozen([
        { cluster: 'c', prefixes: ['10.0.0.0/16'] },
        { cluster: 'b', prefixes: ['10.1.0.0/16', '10.96.0.0/12'] },
        { cluster: 'd', prefixes: ['192.168.0.0/16'] },
      ]),
      { remapRange: '10.128.0.0/9' },
    );
    expect(plan).toEqual({
      version: 1,
      remapRanges: ['10.128.0.0/9'],
      local: LOCAL,
      peers: [
        {
          cluster: 'b',
          mappings: [
            { prefix: '10.1.0.0/16', seenAs: '10.1.0.0/16', remapped: false },
            { prefix: '10.96.0.0/12', seenAs: '10.128.0.0/12', remapped: true },
          ],
        },
        { cluster: 'c', mappings: [{ prefix: '10.0.0.0/16', seenAs: '10.144.0.0/16', remapped: true }] },
        { cluster: 'd', mappings: [{ prefix: '192.168.0.0/16', seenAs: '192.168.0.0/16', remapped: false }] },
      ],
    });
    expect(remapAddress(plan, 'c', '10.0.3.7')).toBe('10.144.3.7');
    expect(remapAddress(plan, 'c', '10.9.3.7')).toBeUndefined();
  });

  it('keeps previous mappings, and a peer that overlaps an earlier peer is remapped too', () => {
    const first = planRemap(LOCAL, [{ cluster: 'm', prefixes: ['10.0.0.0/16'] }], {
      remapRange: '10.128.0.0/9',
    });
    const second = planRemap(
      LOCAL,
      [
        { cluster: 'm', prefixes: ['10.0.0.0/16'] },
        { cluster: 'a', prefixes: ['10.128.0.0/16', '10.0.0.0/16'] },
      ],
      { remapRange: '10.128.0.0/9', previous: first },
    );
    expect(second.peers.find((p) => p.cluster === 'm')).toEqual(first.peers[0]);
    expect(second.peers[0]!.mappings).toEqual([
      { prefix: '10.0.0.0/16', seenAs: '10.129.0.0/16', remapped: true },
      { prefix: '10.128.0.0/16', seenAs: '10.130.0.0/16', remapped: true },
    ]);
  });

  it('handles IPv6 with one range per family', () => {
    const plan = planRemap(
      ['fd00:10::/64', '10.0.0.0/16'],
      [{ cluster: 'b', prefixes: ['fd00:10::/64', '10.0.0.0/16'] }],
      {
        remapRange: ['fd99::/48', '10.128.0.0/9'],
      },
    );
    expect(plan.peers[0]!.mappings.map((m) => m.seenAs)).toEqual(['10.128.0.0/16', 'fd99::/64']);
    expect(remapAddress(plan, 'b', 'fd00:10::abcd')).toBe('fd99::abcd');
  });

  it('rejects bad input with typed errors', () => {
    // An IPv6 prefix that overlaps nothing needs no IPv6 range; one that does, does.
    expect(
      planRemap(LOCAL, [{ cluster: 'b', prefixes: ['fd00::/64'] }], { remapRange: '10.128.0.0/9' }).peers[0]!
        .mappings[0]!.remapped,
    ).toBe(false);
    thrown(
      () =>
        planRemap(['fd00::/64'], [{ cluster: 'b', prefixes: ['fd00::/64'] }], { remapRange: '10.128.0.0/9' }),
      'FAMILY_MISMATCH',
    );
    thrown(
      () => planRemap(LOCAL, [{ cluster: 'b', prefixes: ['10.0.0.0/8'] }], { remapRange: '10.128.0.0/9' }),
      'REMAP_EXHAUSTED',
    );
    thrown(
      () =>
        planRemap(LOCAL, [{ cluster: 'b', prefixes: ['10.0.0.0/16', '10.0.1.0/24'] }], {
          remapRange: '10.128.0.0/9',
        }),
      'INVALID_PEER',
    );
    thrown(
      () =>
        planRemap(
          LOCAL,
          [
            { cluster: 'b', prefixes: [] },
            { cluster: 'b', prefixes: [] },
          ],
          { remapRange: '10.128.0.0/9' },
        ),
      'INVALID_PEER',
    );
    thrown(() => planRemap(LOCAL, [], { remapRange: '10.128.0.1/9' }), 'INVALID_CIDR');
    thrown(() => planRemap(LOCAL, [], { remapRange: ['10.128.0.0/9', '10.64.0.0/10'] }), 'INVALID_ARGUMENT');
    const peers = [{ cluster: 'b', prefixes: ['10.0.0.0/16'] }];
    for (const previous of [
      { version: 1, remapRanges: [], local: [], peers: [null] },
      { version: 1, remapRanges: [], local: [], peers: [{ cluster: 'b' }] },
      { version: 1, remapRanges: [], local: [], peers: [{ cluster: 'b', mappings: [null] }] },
    ]) {
      thrown(
        () => planRemap(LOCAL, peers, { remapRange: '10.128.0.0/9', previous: previous as never }),
        'INVALID_ARGUMENT',
      );
    }
  });

  it('plans the prefix-to-prefix NAT from how each peer sees us', () => {
    const mine = planRemap(LOCAL, [{ cluster: 'b', prefixes: LOCAL }], { remapRange: '10.128.0.0/9' });
    const theirs = planRemap(LOCAL, [{ cluster: 'a', prefixes: LOCAL }], { remapRange: '172.0.0.0/11' });
    const nat = planRemapNat({ remap: mine, seenBy: { b: theirs.peers[0]!.mappings } });
    expect(nat.peers).toEqual([
      {
        cluster: 'b',
        family: 4,
        set: nat.peers[0]!.set,
        peerSeenAs: ['10.128.0.0/16', '10.144.0.0/12'],
        dnat: [
          { from: '172.0.0.0/16', to: '10.0.0.0/16' },
          { from: '172.16.0.0/12', to: '10.96.0.0/12' },
        ],
        snat: [
          { from: '10.0.0.0/16', to: '172.0.0.0/16' },
          { from: '10.96.0.0/12', to: '172.16.0.0/12' },
        ],
      },
    ]);
    const text = renderNft(nat);
    expect(text).toContain('table ip isthmus-remap {');
    expect(text).toMatch(
      /ip daddr @peer4-\w+ snat ip prefix to ip saddr map \{ 10\.0\.0\.0\/16 : 172\.0\.0\.0\/16, 10\.96\.0\.0\/12 : 172\.16\.0\.0\/12 \}/,
    );
    thrown(() => planRemapNat({ remap: mine, seenBy: { zz: [] } }), 'INVALID_PEER');
    thrown(
      () =>
        planRemapNat({
          remap: mine,
          seenBy: { b: [{ prefix: '10.5.0.0/16', seenAs: '10.6.0.0/16', remapped: true }] },
        }),
      'INVALID_PEER',
    );
  });
});

describe('remap properties', () => {
  const prefix = fc
    .tuple(
      fc.integer({ min: 0, max: 127 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 12, max: 24 }),
    )
    .map(([a, b, bits]) => parsePrefix(`10.${a}.${b}.0/${bits}`, { mask: true }).toString());
  const disjoint = (l: string[]) => {
    const out: Prefix[] = [];
    for (const t of l) {
      const p = parsePrefix(t);
      if (!out.some((o) => o.overlaps(p))) out.push(p);
    }
    return out.map(String);
  };
  const peers = fc
    .uniqueArray(
      fc.tuple(fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6'), fc.array(prefix, { maxLength: 3 })),
      { selector: (x) => x[0], maxLength: 5 },
    )
    .map((l) => l.map(([cluster, ps]): PeerPrefixes => ({ cluster, prefixes: disjoint(ps) })));
  const local = fc.array(prefix, { maxLength: 3 }).map(disjoint);
  const opts = { remapRange: '10.128.0.0/9' };

  function seen(plan: RemapPlan): Prefix[] {
    return [...plan.local, ...plan.peers.flatMap((p) => p.mappings.map((m) => m.seenAs))].map((t) =>
      parsePrefix(t),
    );
  }

  it('every prefix the cluster sees is disjoint from every other', () => {
    fc.assert(
      fc.property(local, peers, (l, ps) => {
        const s = seen(planRemap(l, ps, opts));
        for (let i = 0; i < s.length; i++)
          for (let j = i + 1; j < s.length; j++) expect(s[i]!.overlaps(s[j]!), `${s[i]} ${s[j]}`).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('each mapping is a bijection that keeps host bits', () => {
    fc.assert(
      fc.property(local, peers, fc.bigInt({ min: 0n, max: 2n ** 20n }), (l, ps, off) => {
        const plan = planRemap(l, ps, opts);
        for (const p of plan.peers) {
          for (const m of p.mappings) {
            const from = parsePrefix(m.prefix);
            const to = parsePrefix(m.seenAs);
            expect(to.bits).toBe(from.bits);
            expect(m.remapped).toBe(!to.equals(from));
            if (m.remapped) expect(parsePrefix('10.128.0.0/9').contains(to)).toBe(true);
            const host = off % from.size();
            const a = Addr.fromBigInt(4, from.first().toBigInt() + host);
            const b = remapAddress(plan, p.cluster, a.toString())!;
            expect(parseAddr(b).toBigInt() - to.first().toBigInt()).toBe(host);
          }
          // Distinct peer addresses map to distinct addresses: the images of the prefixes are disjoint.
          const images = p.mappings.map((m) => parsePrefix(m.seenAs));
          for (let i = 0; i < images.length; i++)
            for (let j = i + 1; j < images.length; j++) expect(images[i]!.overlaps(images[j]!)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('existing mappings never move when a peer is added, and planning is deterministic', () => {
    fc.assert(
      fc.property(local, peers, fc.array(prefix, { maxLength: 3 }), (l, ps, extra) => {
        const before = planRemap(l, ps, opts);
        expect(planRemap(l, [...ps].reverse(), opts)).toEqual(before);
        let after: RemapPlan;
        try {
          after = planRemap(l, [...ps, { cluster: 'new', prefixes: disjoint(extra) }], {
            ...opts,
            previous: before,
          });
        } catch {
          return; // the range may run out for the newcomer; nothing else to check then
        }
        for (const p of before.peers) expect(after.peers.find((q) => q.cluster === p.cluster)).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('a peer keeps its mapping while it exists, even when others leave', () => {
    fc.assert(
      fc.property(local, peers, fc.nat(), (l, ps, k) => {
        const before = planRemap(l, ps, opts);
        if (ps.length === 0) return;
        const gone = ps[k % ps.length]!.cluster;
        const after = planRemap(
          l,
          ps.filter((p) => p.cluster !== gone),
          { ...opts, previous: before },
        );
        for (const p of after.peers) expect(p).toEqual(before.peers.find((q) => q.cluster === p.cluster));
      }),
      { numRuns: 200 },
    );
  });
});
