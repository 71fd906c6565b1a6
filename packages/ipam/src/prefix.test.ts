import fc from 'fast-check';
import { IPv4, IPv4CidrRange, IPv4Prefix, IPv6, IPv6CidrRange, IPv6Prefix, Validator } from 'ip-num';
import { describe, expect, it } from 'vitest';
import { Addr, parseAddr } from './addr';
import { Prefix, parsePrefix, prefixOfAddr, tryParsePrefix } from './prefix';
import { ipNumAccepts, thrown } from './test-support';

// ---------------------------------------------------------------------------------------------
// Helpers

const MAX = { 4: 0xffff_ffffn, 6: (1n << 128n) - 1n } as const;

const bitsOf = (a: Addr) => BigInt(a.bitLength());
/** Host mask of a prefix of length `bits` in an address of `a`'s family, as a bigint. */
const hostMask = (a: Addr, bits: number) => (1n << (bitsOf(a) - BigInt(bits))) - 1n;

/** First and last address of a prefix computed with bigint arithmetic only. */
function bounds(p: Prefix): [bigint, bigint] {
  const m = hostMask(p.addr, p.bits);
  const first = p.addr.toBigInt() & ~m;
  return [first, first | m];
}

function ipNumRange(p: Prefix): IPv4CidrRange | IPv6CidrRange {
  const [first] = bounds(p);
  return p.family === 4
    ? new IPv4CidrRange(IPv4.fromNumber(first), IPv4Prefix.fromNumber(BigInt(p.bits)))
    : new IPv6CidrRange(IPv6.fromBigInt(first), IPv6Prefix.fromNumber(BigInt(p.bits)));
}

function ipNumAddr(a: Addr): IPv4 | IPv6 {
  return a.family === 4 ? IPv4.fromNumber(a.toBigInt()) : IPv6.fromBigInt(a.toBigInt());
}

// ---------------------------------------------------------------------------------------------
// Arbitraries, built from numbers, never from our own parser.

const v4Value = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.constantFrom(0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff),
);
const arbGroup = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(0xffff) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const arbV4 = v4Value.map((v) => Addr.fromV4Number(v));
const arbV6 = fc.oneof(
  fc.array(arbGroup, { minLength: 8, maxLength: 8 }).map((g) =>
    Addr.fromBigInt(
      6,
      g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n),
    ),
  ),
  fc.bigInt({ min: 0n, max: MAX[6] }).map((v) => Addr.fromBigInt(6, v)),
  v4Value.map((v) => Addr.fromBigInt(6, (0xffffn << 32n) | BigInt(v))), // IPv4-mapped
);
const arbAddr = fc.oneof(arbV4, arbV6);

/** A prefix length for an address, biased towards the edges and word boundaries. */
function arbBitsFor(a: Addr, min = 0): fc.Arbitrary<number> {
  const max = a.bitLength();
  const edges = [0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, max - 1, max].filter(
    (b) => b >= min && b <= max,
  );
  return fc.oneof(fc.integer({ min, max }), fc.constantFrom(...edges));
}

/** Any prefix, host bits possibly set. */
const arbRawPrefix = arbAddr.chain((a) => arbBitsFor(a).map((b) => Prefix.from(a, b)));
/** A canonical prefix (host bits clear). */
const arbPrefix = arbRawPrefix.map((p) => p.masked());

/** An address of the prefix's family near or inside the prefix (or anywhere), to test containment. */
function arbAddrNear(p: Prefix): fc.Arbitrary<Addr> {
  const [first, last] = bounds(p);
  const max = MAX[p.family];
  const clamp = (v: bigint) => (v < 0n ? 0n : v > max ? max : v);
  return fc.oneof(
    fc.bigInt({ min: 0n, max }).map((v) => Addr.fromBigInt(p.family, v)),
    fc.bigInt({ min: first, max: last }).map((v) => Addr.fromBigInt(p.family, v)),
    fc
      .constantFrom(first - 1n, first, last, last + 1n, p.addr.toBigInt())
      .map((v) => Addr.fromBigInt(p.family, clamp(v))),
  );
}

/** Two prefixes of one family that often overlap: the second starts near or inside the first. */
const arbPrefixPair = fc.oneof(
  fc.tuple(arbPrefix, arbPrefix),
  arbPrefix.chain((p) =>
    arbAddrNear(p).chain((a) =>
      arbBitsFor(a).map((b) => [p, Prefix.from(a, b).masked()] as [Prefix, Prefix]),
    ),
  ),
);

// ---------------------------------------------------------------------------------------------

describe('parsePrefix: valid input', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0', 8, 4],
    ['0.0.0.0/0', '0.0.0.0', 0, 4],
    ['192.168.1.7/32', '192.168.1.7', 32, 4],
    ['255.255.255.254/31', '255.255.255.254', 31, 4],
    ['::/0', '::', 0, 6],
    ['::1/128', '::1', 128, 6],
    ['2001:DB8::/32', '2001:db8::', 32, 6],
    ['2001:0db8:0000::/48', '2001:db8::', 48, 6],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0', 104, 6],
    ['fd00::/8', 'fd00::', 8, 6],
  ])('%s is %s/%i (IPv%i)', (text, addr, bits, family) => {
    const p = parsePrefix(text);
    expect(p.addr.toString()).toBe(addr);
    expect(p.bits).toBe(bits);
    expect(p.family).toBe(family);
    expect(p.toString()).toBe(`${addr}/${bits}`);
    expect(p.toJSON()).toBe(`${addr}/${bits}`);
    expect(p.isMasked()).toBe(true);
    expect(tryParsePrefix(text)?.equals(p)).toBe(true);
    expect(parsePrefix(text, { mask: true }).equals(p)).toBe(true);
  });
});

describe('parsePrefix: invalid input', () => {
  it.each([
    // no slash
    ['10.0.0.0', 'syntax', /no '\/length'/],
    ['::1', 'syntax', /no '\/length'/],
    ['', 'syntax', /no '\/length'/],
    // length out of range, malformed, signed, zero-padded, empty
    ['10.0.0.0/33', 'length', /length "33" is not a decimal number in 0\.\.32/],
    ['::/129', 'length', /length "129" is not a decimal number in 0\.\.128/],
    ['10.0.0.0/128', 'length', /0\.\.32/],
    ['10.0.0.0/08', 'length', /"08"/],
    ['10.0.0.0/00', 'length', /"00"/],
    ['::/0128', 'length', /"0128"/],
    ['::/064', 'length', /"064"/],
    ['10.0.0.0/+8', 'length', /"\+8"/],
    ['10.0.0.0/-1', 'length', /"-1"/],
    ['10.0.0.0/', 'length', /length ""/],
    ['::/', 'length', /length ""/],
    ['10.0.0.0/8 ', 'length', /"8 "/],
    ['10.0.0.0/ 8', 'length', /" 8"/],
    ['10.0.0.0/0x8', 'length', /"0x8"/],
    ['10.0.0.0/8.0', 'length', /"8\.0"/],
    ['10.0.0.0/8/8', 'length', /"8\/8"/],
    ['10.0.0.0/1e1', 'length', /"1e1"/],
    ['10.0.0.0/1000', 'length', /"1000"/],
    ['10.0.0.0/255.0.0.0', 'length', /"255\.0\.0\.0"/],
    // bad address part: the address rules apply, with their reason
    ['/8', 'address', /address "" is invalid: it is empty/],
    ['010.0.0.0/8', 'address', /address "010\.0\.0\.0" is invalid: .*leading zero/],
    ['10.0.0/24', 'address', /not 3/],
    ['10/8', 'address', /not 1/],
    [' 10.0.0.0/8', 'address', /white space/],
    ['fe80::%eth0/64', 'address', /zones are not allowed/],
    ['1::2::3/64', 'address', /may appear only once/],
    ['1:2:3:4:5:6:7:8::/64', 'address', /leaves no group/],
    ['12345::/16', 'address', /more than 4 hex digits/],
    // host bits set
    ['10.1.2.3/8', 'host-bits', /host bits are set \(did you mean 10\.0\.0\.0\/8\?/],
    ['10.0.0.1/31', 'host-bits', /did you mean 10\.0\.0\.0\/31\?/],
    ['0.0.0.1/0', 'host-bits', /did you mean 0\.0\.0\.0\/0\?/],
    ['2001:db8::1/64', 'host-bits', /did you mean 2001:db8::\/64\?/],
    ['::1/127', 'host-bits', /did you mean ::\/127\?/],
    ['::ffff:10.1.0.0/104', 'host-bits', /did you mean ::ffff:10\.0\.0\.0\/104\?/],
  ])('rejects %j (%s)', (text, reason, message) => {
    const err = thrown(() => parsePrefix(text));
    expect(err.code).toBe('INVALID_PREFIX');
    expect(err.details.reason).toBe(reason);
    expect(err.details.value).toBe(text);
    expect(err.message).toContain(JSON.stringify(text));
    expect(err.message).toMatch(message);
    expect(tryParsePrefix(text)).toBeUndefined();
    if (reason === 'host-bits') {
      expect(err.message).toContain('{ mask: true }');
    } else {
      // { mask: true } only clears host bits, it forgives nothing else.
      const again = thrown(() => parsePrefix(text, { mask: true }));
      expect(again.details.reason).toBe(reason);
    }
  });

  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['10.0.0.1/31', '10.0.0.0/31'],
    ['255.255.255.255/0', '0.0.0.0/0'],
    ['192.168.77.200/20', '192.168.64.0/20'],
    ['2001:db8::1/64', '2001:db8::/64'],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/33', '2001:db8:8000::/33'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1', '8000::/1'],
    ['::ffff:10.1.2.3/104', '::ffff:10.0.0.0/104'],
  ])('with { mask: true } accepts %s as %s', (text, canonical) => {
    const p = parsePrefix(text, { mask: true });
    expect(p.toString()).toBe(canonical);
    expect(p.isMasked()).toBe(true);
    expect(tryParsePrefix(text, { mask: true })?.equals(p)).toBe(true);
    expect(tryParsePrefix(text, { mask: false })).toBeUndefined();
  });

  it.each([
    [8, '8'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{ cidr: '10.0.0.0/8' }, '{"cidr":"10.0.0.0/8"}'],
    [parsePrefix('10.0.0.0/8'), '10.0.0.0/8'],
  ])('rejects the non-string %s', (value, shown) => {
    const err = thrown(() => parsePrefix(value as unknown as string));
    expect(err.code).toBe('INVALID_PREFIX');
    expect(err.details.reason).toBe('type');
    expect(err.message).toMatch(/must be a string/);
    expect(err.message).toContain(shown);
    expect(tryParsePrefix(value as unknown as string)).toBeUndefined();
  });
});

describe('Prefix values', () => {
  it('Prefix.from rejects lengths outside 0..bitLength', () => {
    const cases: [string, number][] = [
      ['10.0.0.0', -1],
      ['10.0.0.0', 33],
      ['10.0.0.0', 1.5],
      ['10.0.0.0', Number.NaN],
      ['::', 129],
      ['::', -1],
    ];
    for (const [addr, bits] of cases) {
      const err = thrown(() => Prefix.from(parseAddr(addr), bits));
      expect(err.code).toBe('INVALID_PREFIX');
      expect(err.details.reason).toBe('length');
      expect(err.message).toContain(String(bits));
      expect(err.message).toContain(addr);
    }
  });

  it('Prefix.from keeps host bits until masked() clears them explicitly', () => {
    const p = Prefix.from(parseAddr('10.1.2.3'), 8);
    expect(p.isMasked()).toBe(false);
    expect(p.toString()).toBe('10.1.2.3/8');
    expect(p.masked().toString()).toBe('10.0.0.0/8');
    expect(p.masked().isMasked()).toBe(true);
    expect(p.equals(p.masked())).toBe(false);
    const q = parsePrefix('10.0.0.0/8');
    expect(q.masked()).toBe(q);
  });

  it('prefixOfAddr is the single-address prefix', () => {
    const v4 = prefixOfAddr(parseAddr('10.1.2.3'));
    expect(v4.toString()).toBe('10.1.2.3/32');
    expect(v4.size()).toBe(1n);
    const v6 = prefixOfAddr(parseAddr('2001:db8::1'));
    expect(v6.toString()).toBe('2001:db8::1/128');
    expect(v6.first().equals(v6.last())).toBe(true);
  });

  it('prefixes are values compared by content, never by identity', () => {
    const a = parsePrefix('10.0.0.0/8');
    const b = parsePrefix('10.0.0.0/8');
    expect(a).not.toBe(b);
    expect(a.equals(b)).toBe(true);
    expect(a.compare(b)).toBe(0);
    expect(a).toEqual(b);
    expect(parsePrefix('2001:DB8::/32')).toEqual(parsePrefix('2001:0db8:0::/32'));
    expect(a.equals(parsePrefix('10.0.0.0/9'))).toBe(false);
    expect(a).not.toEqual(parsePrefix('10.0.0.0/9'));
  });

  it('first, last and size of known prefixes', () => {
    const p = parsePrefix('192.168.0.0/22');
    expect(p.first().toString()).toBe('192.168.0.0');
    expect(p.last().toString()).toBe('192.168.3.255');
    expect(p.size()).toBe(1024n);
    const all4 = parsePrefix('0.0.0.0/0');
    expect(all4.last().toString()).toBe('255.255.255.255');
    expect(all4.size()).toBe(1n << 32n);
    const all6 = parsePrefix('::/0');
    expect(all6.last().toString()).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(all6.size()).toBe(1n << 128n);
    const q = parsePrefix('2001:db8::/33');
    expect(q.last().toString()).toBe('2001:db8:7fff:ffff:ffff:ffff:ffff:ffff');
  });

  it('containment never crosses families, not even for IPv4-mapped addresses', () => {
    const v4 = parsePrefix('10.0.0.0/8');
    const v6 = parsePrefix('::ffff:10.0.0.0/104');
    expect(v4.contains(parseAddr('10.1.2.3'))).toBe(true);
    expect(v4.contains(parseAddr('::ffff:10.1.2.3'))).toBe(false);
    expect(v6.contains(parseAddr('::ffff:10.1.2.3'))).toBe(true);
    expect(v6.contains(parseAddr('10.1.2.3'))).toBe(false);
    expect(parsePrefix('::/0').contains(parseAddr('0.0.0.0'))).toBe(false);
    expect(parsePrefix('0.0.0.0/0').contains(parsePrefix('::/0'))).toBe(false);
    expect(v4.overlaps(v6)).toBe(false);
    expect(parsePrefix('0.0.0.0/0').overlaps(parsePrefix('::/0'))).toBe(false);
  });

  it('contains a prefix only when it is as long or longer', () => {
    const p = parsePrefix('10.0.0.0/8');
    expect(p.contains(parsePrefix('10.0.0.0/8'))).toBe(true);
    expect(p.contains(parsePrefix('10.255.0.0/16'))).toBe(true);
    expect(p.contains(parsePrefix('10.0.0.0/7'))).toBe(false);
    expect(p.contains(parsePrefix('11.0.0.0/16'))).toBe(false);
  });

  it('subnets, supernet, next and prev of known prefixes', () => {
    const p = parsePrefix('10.0.0.0/8');
    expect([...p.subnets(10)].map(String)).toEqual([
      '10.0.0.0/10',
      '10.64.0.0/10',
      '10.128.0.0/10',
      '10.192.0.0/10',
    ]);
    expect([...p.subnets(8)].map(String)).toEqual(['10.0.0.0/8']);
    expect(p.supernet().toString()).toBe('10.0.0.0/7');
    expect(parsePrefix('11.0.0.0/8').supernet().toString()).toBe('10.0.0.0/7');
    expect(p.supernet(0).toString()).toBe('0.0.0.0/0');
    expect(p.supernet(8).equals(p)).toBe(true);
    expect(p.next()?.toString()).toBe('11.0.0.0/8');
    expect(p.prev()?.toString()).toBe('9.0.0.0/8');
    expect(parsePrefix('255.0.0.0/8').next()).toBeUndefined();
    expect(parsePrefix('0.0.0.0/8').prev()).toBeUndefined();
    expect(parsePrefix('0.0.0.0/0').next()).toBeUndefined();
    expect(parsePrefix('::/0').prev()).toBeUndefined();
    expect(parsePrefix('2001:db8::/64').next()?.toString()).toBe('2001:db8:0:1::/64');
    expect(parsePrefix('::ffff:ffff:ffff:ffff/128').next()?.toString()).toBe('0:0:0:1::/128');
  });

  it('subnets are lazy: a /64 splits into 2^64 /128s without materialising them', () => {
    const it = parsePrefix('2001:db8::/64').subnets(128);
    const firstThree = [it.next().value, it.next().value, it.next().value].map(String);
    expect(firstThree).toEqual(['2001:db8::/128', '2001:db8::1/128', '2001:db8::2/128']);
  });

  it('subnets and supernet reject lengths on the wrong side, when called', () => {
    const p = parsePrefix('10.0.0.0/8');
    for (const bits of [7, 33, -1, 8.5, Number.NaN]) {
      const err = thrown(() => p.subnets(bits));
      expect(err.code).toBe('INVALID_PREFIX');
      expect(err.details.reason).toBe('length');
      expect(err.message).toContain('10.0.0.0/8');
      expect(err.message).toContain(String(bits));
    }
    for (const bits of [9, 33, -1, 7.5]) {
      const err = thrown(() => p.supernet(bits));
      expect(err.code).toBe('INVALID_PREFIX');
      expect(err.message).toContain('10.0.0.0/8');
      expect(err.message).toContain(String(bits));
    }
    expect(thrown(() => parsePrefix('0.0.0.0/0').supernet()).code).toBe('INVALID_PREFIX');
    expect(thrown(() => parsePrefix('::/0').supernet()).code).toBe('INVALID_PREFIX');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

describe('properties', () => {
  it('parse(format(p)) equals p for every canonical prefix', () => {
    fc.assert(
      fc.property(arbPrefix, (p) => {
        const back = parsePrefix(p.toString());
        expect(back.equals(p)).toBe(true);
        expect(back.family).toBe(p.family);
        expect(back.toString()).toBe(p.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('text with host bits is rejected with the masked prefix as a hint, and { mask: true } clears them', () => {
    fc.assert(
      fc.property(arbRawPrefix, (raw) => {
        const text = raw.toString();
        const masked = Prefix.from(Addr.fromBigInt(raw.family, bounds(raw)[0]), raw.bits);
        expect(parsePrefix(text, { mask: true }).equals(masked)).toBe(true);
        if (raw.addr.toBigInt() === bounds(raw)[0]) {
          expect(parsePrefix(text).equals(raw)).toBe(true);
          expect(raw.isMasked()).toBe(true);
        } else {
          const err = thrown(() => parsePrefix(text));
          expect(err.details.reason).toBe('host-bits');
          expect(err.message).toContain(masked.toString());
          expect(raw.isMasked()).toBe(false);
        }
        expect(raw.masked().equals(masked)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('no operation changes the prefix it is called on (results are new values)', () => {
    fc.assert(
      fc.property(arbRawPrefix, (p) => {
        const before = { text: p.toString(), addr: p.addr.toBigInt(), bits: p.bits };
        p.masked();
        p.next();
        p.prev();
        if (p.bits > 0) p.supernet();
        if (p.bits < p.addr.bitLength()) p.subnets(p.bits + 1).next();
        p.first();
        p.last();
        expect({ text: p.toString(), addr: p.addr.toBigInt(), bits: p.bits }).toEqual(before);
      }),
    );
  });

  it('first, last and size agree with bigint arithmetic on the mask', () => {
    fc.assert(
      fc.property(arbRawPrefix, (p) => {
        const [first, last] = bounds(p);
        expect(p.first().family).toBe(p.family);
        expect(p.last().family).toBe(p.family);
        expect(p.first().toBigInt()).toBe(first);
        expect(p.last().toBigInt()).toBe(last);
        expect(p.size()).toBe(last - first + 1n);
        expect(p.size()).toBe(1n << BigInt(p.addr.bitLength() - p.bits));
      }),
      { numRuns: 2000 },
    );
  });

  it('an address is contained exactly when first <= addr <= last', () => {
    fc.assert(
      fc.property(
        arbRawPrefix.chain((p) => fc.tuple(fc.constant(p), arbAddrNear(p))),
        ([p, a]) => {
          const [first, last] = bounds(p);
          const v = a.toBigInt();
          expect(p.contains(a)).toBe(first <= v && v <= last);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('contains(addr) agrees with ip-num IPv4CidrRange/IPv6CidrRange contains', () => {
    fc.assert(
      fc.property(
        arbPrefix.chain((p) => fc.tuple(fc.constant(p), arbAddrNear(p))),
        ([p, a]) => {
          expect(p.contains(a)).toBe(ipNumRange(p).contains(ipNumAddr(a)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('contains(prefix) agrees with ip-num range containment', () => {
    fc.assert(
      fc.property(arbPrefixPair, ([p, q]) => {
        // ip-num compares bare numbers, so 0.0.0.0/0 "contains" ::/0; we never cross families.
        if (p.family !== q.family) {
          expect(p.contains(q)).toBe(false);
          return;
        }
        // The cast only bridges ip-num's per-family overloads.
        const theirs = ipNumRange(p).contains as (r: unknown) => boolean;
        expect(p.contains(q)).toBe(theirs.call(ipNumRange(p), ipNumRange(q)));
      }),
      { numRuns: 2000 },
    );
  });

  it('ip-num parses our canonical text for the same range', () => {
    fc.assert(
      fc.property(arbPrefix, (p) => {
        // ip-num's IPv6 CIDR pattern mishandles the mixed form (it has `d` for `\d`): give it hex.
        const text =
          p.family === 6
            ? `${p
                .first()
                .toBigInt()
                .toString(16)
                .padStart(32, '0')
                .replace(/(.{4})(?!$)/g, '$1:')}/${p.bits}`
            : p.toString();
        const theirs = p.family === 4 ? IPv4CidrRange.fromCidr(text) : IPv6CidrRange.fromCidr(text);
        expect(theirs.getFirst().getValue()).toBe(bounds(p)[0]);
        expect(theirs.getLast().getValue()).toBe(bounds(p)[1]);
        if (p.family === 4) expect(Validator.isValidIPv4CidrRange(p.toString())[0]).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('subnets(n) partition the prefix: 2^(n-bits) masked, adjacent, contained pieces covering first..last', () => {
    const arbSplit = arbPrefix.chain((p) =>
      fc
        .integer({ min: 0, max: Math.min(6, p.addr.bitLength() - p.bits) })
        .map((k) => [p, p.bits + k] as [Prefix, number]),
    );
    fc.assert(
      fc.property(arbSplit, ([p, n]) => {
        const subs = [...p.subnets(n)];
        expect(BigInt(subs.length)).toBe(1n << BigInt(n - p.bits));
        const [first, last] = bounds(p);
        expect(subs[0]?.first().toBigInt()).toBe(first);
        expect(subs[subs.length - 1]?.last().toBigInt()).toBe(last);
        let total = 0n;
        subs.forEach((s, i) => {
          expect(s.bits).toBe(n);
          expect(s.family).toBe(p.family);
          expect(s.isMasked()).toBe(true);
          expect(p.contains(s)).toBe(true);
          total += s.size();
          const nextSub = subs[i + 1];
          if (nextSub !== undefined) {
            expect(nextSub.first().toBigInt()).toBe(s.last().toBigInt() + 1n);
            expect(s.next()?.equals(nextSub)).toBe(true);
            expect(s.overlaps(nextSub)).toBe(false);
          }
        });
        expect(total).toBe(p.size());
      }),
      { numRuns: 1000 },
    );
  });

  it('supernet(n) is masked, n bits long and contains the prefix; the default is one bit shorter', () => {
    const arbSuper = arbRawPrefix.chain((p) =>
      fc.integer({ min: 0, max: p.bits }).map((n) => [p, n] as [Prefix, number]),
    );
    fc.assert(
      fc.property(arbSuper, ([p, n]) => {
        const s = p.supernet(n);
        expect(s.bits).toBe(n);
        expect(s.family).toBe(p.family);
        expect(s.isMasked()).toBe(true);
        expect(s.contains(p)).toBe(true);
        expect(s.contains(p.masked())).toBe(true);
        expect(s.first().toBigInt()).toBe(p.addr.toBigInt() & ~hostMask(p.addr, n));
        if (p.bits > 0) expect(p.supernet().equals(p.supernet(p.bits - 1))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("overlaps is symmetric and holds exactly when either prefix contains the other's first address", () => {
    fc.assert(
      fc.property(arbPrefixPair, ([p, q]) => {
        const o = p.overlaps(q);
        expect(q.overlaps(p)).toBe(o);
        expect(o).toBe(p.contains(q.first()) || q.contains(p.first()));
        // ... which is interval intersection in bigint terms.
        const [pf, pl] = bounds(p);
        const [qf, ql] = bounds(q);
        expect(o).toBe(p.family === q.family && pf <= ql && qf <= pl);
        expect(p.overlaps(p)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('next() starts right after last() and prev() ends right before first(), undefined at the ends', () => {
    fc.assert(
      fc.property(arbPrefix, (p) => {
        const [first, last] = bounds(p);
        const n = p.next();
        if (last === MAX[p.family]) {
          expect(n).toBeUndefined();
        } else {
          expect(n?.bits).toBe(p.bits);
          expect(n?.isMasked()).toBe(true);
          expect(n?.first().toBigInt()).toBe(last + 1n);
          expect(n?.prev()?.equals(p)).toBe(true);
        }
        const q = p.prev();
        if (first === 0n) {
          expect(q).toBeUndefined();
        } else {
          expect(q?.bits).toBe(p.bits);
          expect(q?.isMasked()).toBe(true);
          expect(q?.last().toBigInt()).toBe(first - 1n);
          expect(q?.next()?.equals(p)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('compare orders canonical prefixes by family, then first address, then length; 0 exactly when equal', () => {
    fc.assert(
      fc.property(arbPrefixPair, ([p, q]) => {
        const key = (x: Prefix) => [x.family, bounds(x)[0], x.bits] as const;
        const [a, b] = [key(p), key(q)];
        const want =
          a[0] !== b[0]
            ? Math.sign(a[0] - b[0])
            : a[1] !== b[1]
              ? a[1] < b[1]
                ? -1
                : 1
              : Math.sign(a[2] - b[2]);
        expect(p.compare(q)).toBe(want);
        expect(q.compare(p)).toBe(want === 0 ? 0 : -want);
        expect(p.compare(q) === 0).toBe(p.equals(q));
        expect(p.equals(q)).toBe(p.toString() === q.toString());
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Differential test of prefix validity against ip-num.

const arbLengthText = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 128 }).map(String) },
  fc.integer({ min: 129, max: 999 }).map(String),
  fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`),
  fc.constantFrom('', '+8', '-1', ' 8', '8 ', '0x8', '8.0', '1e1', '8/8'),
);
const arbAnyPrefixText = fc
  .tuple(
    fc.oneof(
      arbRawPrefix.map((p) => p.addr.toString()),
      // the same addresses spelled in full hex, and a few near-valid addresses
      arbV6.map((a) => (a.toBigInt().toString(16).padStart(32, '0').match(/.{4}/g) ?? []).join(':')),
      fc.constantFrom(
        '010.0.0.0',
        '10.0.0',
        '10.0.0.0.0',
        'fe80::%eth0',
        '1::2::3',
        '',
        ' 10.0.0.0',
        '::ffff:1.2.3.04',
      ),
    ),
    arbLengthText,
  )
  .map(([a, l]) => `${a}/${l}`);
const arbPrefixText = fc.oneof(
  arbPrefix.map(String),
  arbRawPrefix.map(String),
  arbPrefix.chain((p) => arbLengthText.map((l) => `${p.addr}/${l}`)),
  arbAnyPrefixText,
);

/**
 * Documented differences in prefix validity (found empirically against ip-num 1.6.2).
 * Where ip-num accepts and we reject on purpose:
 * - zero-padded IPv4 lengths (`10.0.0.0/08`): ip-num checks /^\d+$/ and converts; we refuse leading zeros.
 * Where ip-num is wrong:
 * - ip-num's IPv6 CIDR pattern writes `d` for `\d` in its dotted-quad branch, so it rejects every IPv6
 *   prefix written with an embedded IPv4 part, e.g. `::ffff:10.0.0.0/104`: skip dotted IPv6 text.
 * Zones (`fe80::%eth0/64`) need no exclusion: ip-num's range check throws on them, so both reject.
 */
function excludedFromCidrDifferential(text: string): boolean {
  const slash = text.indexOf('/');
  const addr = text.slice(0, slash);
  const len = text.slice(slash + 1);
  if (!addr.includes(':') && /^0[0-9]/.test(len)) return true;
  return addr.includes(':') && addr.includes('.');
}

describe('differential against ip-num (prefixes)', () => {
  it('we accept a CIDR exactly when ip-num says it is a valid range start, apart from documented differences', () => {
    fc.assert(
      fc.property(arbPrefixText, (text) => {
        fc.pre(!excludedFromCidrDifferential(text));
        expect(tryParsePrefix(text) !== undefined, `ours vs ip-num on ${JSON.stringify(text)}`).toBe(
          ipNumAccepts(text, 'cidr'),
        );
      }),
      { numRuns: 10_000 },
    );
  });

  it('the documented differences are real', () => {
    for (const text of ['10.0.0.0/08', '10.0.0.0/008', '0.0.0.0/00']) {
      expect(ipNumAccepts(text, 'cidr')).toBe(true);
      expect(tryParsePrefix(text)).toBeUndefined();
    }
    for (const text of ['::ffff:10.0.0.0/104', '::1.2.3.4/128', '1:2:3:4:5:6:1.2.3.4/128']) {
      expect(ipNumAccepts(text, 'cidr')).toBe(false);
      expect(tryParsePrefix(text)?.toString()).toBe(
        parseAddr(text.split('/')[0]!).toString() + text.slice(text.indexOf('/')),
      );
    }
    expect(ipNumAccepts('fe80::%eth0/64', 'cidr')).toBe(false);
    expect(tryParsePrefix('fe80::%eth0/64')).toBeUndefined();
  });
});
