import { parsePrefix } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mssClampRules, renderMssClampIptables, renderMssClampNft } from './mss';

const P = (s: string) => parsePrefix(s);

describe('MSS clamping', () => {
  const rules = mssClampRules(
    [P('10.10.0.0/16'), P('fd00:10::/64')],
    [{ subnets: [P('10.20.0.0/16'), P('fd00:20::/64')], mtu: 1440 }],
  );

  it('both directions of every same-family pair, MSS = MTU - 40 / - 60', () => {
    expect(rules).toEqual([
      { family: 4, src: '10.10.0.0/16', dst: '10.20.0.0/16', mss: 1400 },
      { family: 4, src: '10.20.0.0/16', dst: '10.10.0.0/16', mss: 1400 },
      { family: 6, src: 'fd00:10::/64', dst: 'fd00:20::/64', mss: 1380 },
      { family: 6, src: 'fd00:20::/64', dst: 'fd00:10::/64', mss: 1380 },
    ]);
  });

  it('nft: an inet table re-created on every apply, only lowering larger MSS values', () => {
    expect(renderMssClampNft(rules)).toBe(`add table inet isthmus_cable
flush table inet isthmus_cable
table inet isthmus_cable {
\tchain mss_clamp {
\t\ttype filter hook forward priority mangle; policy accept;
\t\tip saddr 10.10.0.0/16 ip daddr 10.20.0.0/16 tcp flags & (syn | rst) == syn tcp option maxseg size > 1400 tcp option maxseg size set 1400
\t\tip saddr 10.20.0.0/16 ip daddr 10.10.0.0/16 tcp flags & (syn | rst) == syn tcp option maxseg size > 1400 tcp option maxseg size set 1400
\t\tip6 saddr fd00:10::/64 ip6 daddr fd00:20::/64 tcp flags & (syn | rst) == syn tcp option maxseg size > 1380 tcp option maxseg size set 1380
\t\tip6 saddr fd00:20::/64 ip6 daddr fd00:10::/64 tcp flags & (syn | rst) == syn tcp option maxseg size > 1380 tcp option maxseg size set 1380
\t}
}
`);
  });

  it('iptables: TCPMSS --set-mss behind a tcpmss range match, one family per script', () => {
    expect(renderMssClampIptables(rules, 4)).toBe(`*mangle
:ISTHMUS-MSS-CLAMP - [0:0]
-A FORWARD -j ISTHMUS-MSS-CLAMP
-A ISTHMUS-MSS-CLAMP -s 10.10.0.0/16 -d 10.20.0.0/16 -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1401:65535 -j TCPMSS --set-mss 1400
-A ISTHMUS-MSS-CLAMP -s 10.20.0.0/16 -d 10.10.0.0/16 -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1401:65535 -j TCPMSS --set-mss 1400
COMMIT
`);
    const v6 = renderMssClampIptables(rules, 6, { jump: false, chain: 'SUBMARINER-MSS' });
    expect(v6).toContain('-A SUBMARINER-MSS -s fd00:10::/64 -d fd00:20::/64');
    expect(v6).toContain('--mss 1381:65535 -j TCPMSS --set-mss 1380');
    expect(v6).not.toContain('FORWARD');
  });

  it('every same-family local/remote pair appears exactly once in each direction', () => {
    const prefixArb = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
        .map(([x, y]) => P(`10.${x}.${y}.0/24`)),
      fc.integer({ min: 0, max: 0xffff }).map((x) => P(`fd00:${x.toString(16)}::/64`)),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(prefixArb, { minLength: 1, maxLength: 6, selector: String }),
        fc.integer({ min: 1280, max: 9000 }),
        (all, mtu) => {
          const half = Math.ceil(all.length / 2);
          const local = all.slice(0, half);
          const remote = all.slice(half);
          const r = mssClampRules(local, [{ subnets: remote, mtu }]);
          let pairs = 0;
          for (const l of local) {
            for (const x of remote) {
              if (l.family !== x.family) continue;
              pairs++;
              const mss = mtu - (l.family === 4 ? 40 : 60);
              expect(
                r.filter((q) => q.src === String(l) && q.dst === String(x) && q.mss === mss),
              ).toHaveLength(1);
              expect(
                r.filter((q) => q.src === String(x) && q.dst === String(l) && q.mss === mss),
              ).toHaveLength(1);
            }
          }
          expect(r).toHaveLength(2 * pairs);
        },
      ),
    );
  });
});
