import { Addr, explainBadAddr, type Family, tryParseAddr } from './addr';
import { IpamError, show } from './errors';
import { Prefix, parsePrefixResult } from './prefix';

/** An inclusive range of addresses of one family, `from <= to`. */
export interface IPRange {
  readonly from: Addr;
  readonly to: Addr;
}

/** What an IPSetBuilder accepts: an address, a CIDR or an "a-b" range as text, or the values themselves. */
export type IPSetInput = string | Addr | Prefix | IPRange;

/** An inclusive [from, to] pair of address values of one family. */
type Pair = readonly [bigint, bigint];
type Ranges = ReadonlyArray<Pair>;

const MAX: Readonly<Record<Family, bigint>> = { 4: 0xffff_ffffn, 6: (1n << 128n) - 1n };
const BITS: Readonly<Record<Family, number>> = { 4: 32, 6: 128 };

function badRange(text: string, reason: string): IpamError {
  return new IpamError('INVALID_RANGE', `invalid IP range ${show(text)}: ${reason}`, { value: text, reason });
}

function showPair(p: unknown): string {
  return Array.isArray(p) ? `[${p.map(show).join(', ')}]` : show(p);
}

function rangeOf(from: Addr, to: Addr): IPRange {
  return Object.freeze({ from, to });
}

/**
 * Parse a Spiderpool-style range "172.110.1.1-172.110.1.200" (no spaces, both ends of one family,
 * from <= to). A single address is accepted as a one-address range, as in Spiderpool's `ips`.
 * Throws IpamError INVALID_RANGE naming the text and the reason.
 */
export function parseRange(text: string): IPRange {
  const r = parseRangeResult(text);
  if (r instanceof IpamError) throw r;
  return r;
}

function parseRangeResult(text: string): IPRange | IpamError {
  if (typeof text !== 'string') {
    return new IpamError('INVALID_RANGE', `IP range must be a string, got ${show(text)}`, { value: text });
  }
  if (/\s/.test(text)) return badRange(text, 'it contains white space');
  const parts = text.split('-');
  if (parts.length > 2) return badRange(text, "it has more than one '-'");
  const [fromText, toText = fromText] = parts as [string, string?];
  const from = tryParseAddr(fromText);
  if (from === undefined) {
    return badRange(text, `start ${show(fromText)} is not an address: ${explainBadAddr(fromText)}`);
  }
  const to = tryParseAddr(toText);
  if (to === undefined) {
    return badRange(text, `end ${show(toText)} is not an address: ${explainBadAddr(toText)}`);
  }
  return checkRange(from, to, text);
}

function checkRange(from: Addr, to: Addr, text: string): IPRange | IpamError {
  if (from.family !== to.family) {
    return badRange(text, `start is IPv${from.family} but end is IPv${to.family}`);
  }
  if (from.compare(to) > 0) return badRange(text, `start ${from} is after end ${to}`);
  return rangeOf(from, to);
}

function isRangeLike(x: unknown): x is IPRange {
  return typeof x === 'object' && x !== null && 'from' in x && 'to' in x;
}

/** The family and [from, to] pair of one input, or the IpamError explaining why it is not valid. */
function inputToPair(x: IPSetInput): { family: Family; pair: Pair } | IpamError {
  if (typeof x === 'string') {
    if (x.includes('/')) {
      const p = parsePrefixResult(x);
      return p instanceof IpamError ? p : prefixPair(p);
    }
    if (x.includes('-')) {
      const r = parseRangeResult(x);
      return r instanceof IpamError ? r : rangePair(r);
    }
    const a = tryParseAddr(x);
    if (a === undefined) {
      return new IpamError('INVALID_ADDRESS', `invalid IP address ${show(x)}: ${explainBadAddr(x)}`, {
        value: x,
      });
    }
    const v = a.toBigInt();
    return { family: a.family, pair: [v, v] };
  }
  // Same rule as parsing "10.1.2.3/8": canonicalisation is the caller's explicit choice.
  if (x instanceof Prefix && !x.isMasked()) {
    return new IpamError('INVALID_PREFIX', `prefix ${x} has host bits set (did you mean ${x.masked()}?)`, {
      value: x.toString(),
      reason: 'host-bits',
    });
  }
  return valuePair(x);
}

/** The family and [from, to] pair of an Addr, Prefix (its masked range) or IPRange. */
function valuePair(x: Addr | Prefix | IPRange): { family: Family; pair: Pair } | IpamError {
  if (x instanceof Addr) {
    const v = x.toBigInt();
    return { family: x.family, pair: [v, v] };
  }
  if (x instanceof Prefix) return prefixPair(x);
  if (isRangeLike(x) && x.from instanceof Addr && x.to instanceof Addr) {
    const r = checkRange(x.from, x.to, `${x.from}-${x.to}`);
    return r instanceof IpamError ? r : rangePair(r);
  }
  return new IpamError(
    'INVALID_ARGUMENT',
    `${show(x)} is not an address, prefix or range (string, Addr, Prefix or IPRange)`,
    { value: x },
  );
}

function rangePair(r: IPRange): { family: Family; pair: Pair } {
  return { family: r.from.family, pair: [r.from.toBigInt(), r.to.toBigInt()] };
}

function prefixPair(p: Prefix): { family: Family; pair: Pair } {
  return { family: p.family, pair: [p.first().toBigInt(), p.last().toBigInt()] };
}

// ---------------------------------------------------------------------------------------------
// Range arithmetic on sorted, disjoint, non-adjacent lists of pairs. Every function is linear.

// Math.min/max throw on bigint.
function minOf(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function comparePairs(a: Pair, b: Pair): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Sort and coalesce pairs in any order, overlapping or adjacent. */
function normalize(pairs: readonly Pair[]): Pair[] {
  return coalesce([...pairs].sort(comparePairs));
}

/** Merge pairs sorted by start, joining those that overlap or touch. */
function coalesce(sorted: Iterable<Pair>): Pair[] {
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1n) {
      last[1] = maxOf(last[1], hi);
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

/** The pairs of two sorted lists in order of start (a two-pointer merge). */
function* mergeSorted(a: Ranges, b: Ranges): Generator<Pair> {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x[0] <= y[0])) {
      yield x!;
      i++;
    } else {
      yield y;
      j++;
    }
  }
}

function unionRanges(a: Ranges, b: Ranges): Pair[] {
  return coalesce(mergeSorted(a, b));
}

function intersectRanges(a: Ranges, b: Ranges): Pair[] {
  const out: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i]!;
    const [blo, bhi] = b[j]!;
    const lo = maxOf(alo, blo);
    const hi = minOf(ahi, bhi);
    if (lo <= hi) out.push([lo, hi]);
    // The range that ends first cannot meet anything further along the other list.
    if (ahi < bhi) i++;
    else j++;
  }
  return out;
}

function subtractRanges(a: Ranges, b: Ranges): Pair[] {
  const out: Pair[] = [];
  let j = 0;
  for (const [from, hi] of a) {
    let lo = from;
    while (j < b.length && b[j]![1] < lo) j++;
    // Do not advance past a b-range that reaches beyond hi: it may cut the next a-range too.
    for (let k = j; k < b.length && b[k]![0] <= hi; k++) {
      const [blo, bhi] = b[k]!;
      if (blo > lo) out.push([lo, blo - 1n]);
      lo = bhi + 1n;
      if (lo > hi) break;
      j = k + 1;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** True when every pair of `b` lies inside one pair of `a`. */
function coversRanges(a: Ranges, b: Ranges): boolean {
  let i = 0;
  for (const [lo, hi] of b) {
    while (i < a.length && a[i]![1] < lo) i++;
    const r = a[i];
    if (r === undefined || r[0] > lo || r[1] < hi) return false;
  }
  return true;
}

function overlapRanges(a: Ranges, b: Ranges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i]!;
    const [blo, bhi] = b[j]!;
    if (alo <= bhi && blo <= ahi) return true;
    if (ahi < bhi) i++;
    else j++;
  }
  return false;
}

function equalRanges(a: Ranges, b: Ranges): boolean {
  return a.length === b.length && a.every((p, i) => p[0] === b[i]![0] && p[1] === b[i]![1]);
}

function freezeRanges(pairs: readonly Pair[]): Ranges {
  return Object.freeze(pairs.map((p) => Object.freeze([p[0], p[1]] as const)));
}

/** Number of trailing zero bits of v, at most `max` (v = 0 has all `max` bits clear). */
function trailingZeros(v: bigint, max: number): number {
  let n = 0;
  while (n < max && ((v >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

/** The minimal CIDR cover of [lo, hi]: from the start, the largest aligned block that fits. */
function rangeToPrefixes(family: Family, lo: bigint, hi: bigint, out: Prefix[]): void {
  const bits = BITS[family];
  while (lo <= hi) {
    let host = trailingZeros(lo, bits);
    while (lo + (1n << BigInt(host)) - 1n > hi) host--;
    out.push(Prefix.from(Addr.fromBigInt(family, lo), bits - host));
    lo += 1n << BigInt(host);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Collects additions and removals (applied in call order), then builds an immutable IPSet. Bad input
 * is collected in `errors` instead of thrown, so a whole list can be reported at once.
 */
export class IPSetBuilder {
  private v4: Pair[] = [];
  private v6: Pair[] = [];
  // Consecutive operations of one kind are batched and applied with one linear merge.
  private pendingKind: 'add' | 'remove' = 'add';
  private pending4: Pair[] = [];
  private pending6: Pair[] = [];
  private readonly collected: IpamError[] = [];

  /** Errors of the inputs that could not be parsed, in input order; each names the bad value. */
  get errors(): readonly IpamError[] {
    return Object.freeze([...this.collected]);
  }

  add(x: IPSetInput): this {
    return this.apply('add', x);
  }

  remove(x: IPSetInput): this {
    return this.apply('remove', x);
  }

  addSet(s: IPSet): this {
    return this.applySet('add', s);
  }

  removeSet(s: IPSet): this {
    return this.applySet('remove', s);
  }

  /** The set; throws IpamError INVALID_IP_SET listing the bad values if any input was invalid. */
  build(): IPSet {
    const r = this.tryBuild();
    if (r.ok) return r.set;
    throw new IpamError(
      'INVALID_IP_SET',
      `invalid IP set: ${r.errors.length} bad ${r.errors.length === 1 ? 'entry' : 'entries'}: ${r.errors
        .map((e) => e.message)
        .join('; ')}`,
      { errors: r.errors, values: r.errors.map((e) => e.details.value) },
    );
  }

  tryBuild(): { ok: true; set: IPSet } | { ok: false; errors: readonly IpamError[] } {
    if (this.collected.length > 0) return { ok: false, errors: this.errors };
    this.flush();
    return { ok: true, set: IPSet.unsafeFromNormalized(this.v4, this.v6) };
  }

  private apply(kind: 'add' | 'remove', x: IPSetInput): this {
    const r = inputToPair(x);
    if (r instanceof IpamError) {
      this.collected.push(r);
      return this;
    }
    this.switchTo(kind);
    (r.family === 4 ? this.pending4 : this.pending6).push(r.pair);
    return this;
  }

  private applySet(kind: 'add' | 'remove', s: IPSet): this {
    this.switchTo(kind);
    this.pending4.push(...s.rangesOf(4));
    this.pending6.push(...s.rangesOf(6));
    return this;
  }

  private switchTo(kind: 'add' | 'remove'): void {
    if (kind === this.pendingKind) return;
    this.flush();
    this.pendingKind = kind;
  }

  private flush(): void {
    const op = this.pendingKind === 'add' ? unionRanges : subtractRanges;
    if (this.pending4.length > 0) this.v4 = op(this.v4, normalize(this.pending4));
    if (this.pending6.length > 0) this.v6 = op(this.v6, normalize(this.pending6));
    this.pending4 = [];
    this.pending6 = [];
  }
}

/**
 * An immutable set of IPv4 and IPv6 addresses (the model is netipx.IPSet). Each family is kept as a
 * sorted list of inclusive ranges that neither overlap nor touch, so equal sets have equal lists.
 */
export class IPSet {
  static readonly EMPTY: IPSet = new IPSet([], []);

  private readonly v4: Ranges;
  private readonly v6: Ranges;

  private constructor(v4: readonly Pair[], v6: readonly Pair[]) {
    this.v4 = freezeRanges(v4);
    this.v6 = freezeRanges(v6);
    Object.freeze(this);
  }

  /** @internal Callers guarantee both lists are sorted, disjoint and non-adjacent. */
  static unsafeFromNormalized(v4: readonly Pair[], v6: readonly Pair[]): IPSet {
    return v4.length === 0 && v6.length === 0 ? IPSet.EMPTY : new IPSet(v4, v6);
  }

  /** The set of the given entries; throws IpamError INVALID_IP_SET listing every bad entry. */
  static from(entries: Iterable<IPSetInput>): IPSet {
    const b = new IPSetBuilder();
    for (const e of entries) b.add(e);
    return b.build();
  }

  /**
   * The set of inclusive [from, to] value pairs of one family, in any order, overlapping or not.
   * Throws IpamError INVALID_RANGE for a pair out of the family's bounds or with from > to.
   */
  static fromRanges(family: 4 | 6, ranges: ReadonlyArray<readonly [bigint, bigint]>): IPSet {
    if (family !== 4 && family !== 6) {
      throw new IpamError('INVALID_ARGUMENT', `address family must be 4 or 6, got ${show(family)}`, {
        value: family,
      });
    }
    const max = MAX[family];
    ranges.forEach((p, i) => {
      const [lo, hi] = Array.isArray(p) ? p : [];
      if (typeof lo !== 'bigint' || typeof hi !== 'bigint' || lo < 0n || hi > max || lo > hi) {
        throw new IpamError(
          'INVALID_RANGE',
          `range ${i} ${showPair(p)} is not a pair of bigints with 0 <= from <= to <= ${max} (IPv${family})`,
          { value: Array.isArray(p) ? p.map(String) : p, index: i, family },
        );
      }
    });
    const norm = normalize(ranges);
    return family === 4 ? IPSet.unsafeFromNormalized(norm, []) : IPSet.unsafeFromNormalized([], norm);
  }

  /** The ranges, sorted, IPv4 first. */
  ranges(): IPRange[] {
    return [...this.toRanges(4), ...this.toRanges(6)];
  }

  /** The sorted, minimal [from, to] inclusive value pairs of one family. */
  rangesOf(family: 4 | 6): ReadonlyArray<readonly [bigint, bigint]> {
    return family === 4 ? this.v4 : this.v6;
  }

  /** The minimal list of CIDRs covering exactly this set, sorted (like netipx IPSet.Prefixes). */
  prefixes(): Prefix[] {
    const out: Prefix[] = [];
    for (const [lo, hi] of this.v4) rangeToPrefixes(4, lo, hi, out);
    for (const [lo, hi] of this.v6) rangeToPrefixes(6, lo, hi, out);
    return out;
  }

  union(o: IPSet): IPSet {
    return IPSet.unsafeFromNormalized(unionRanges(this.v4, o.v4), unionRanges(this.v6, o.v6));
  }

  intersection(o: IPSet): IPSet {
    return IPSet.unsafeFromNormalized(intersectRanges(this.v4, o.v4), intersectRanges(this.v6, o.v6));
  }

  /** The addresses of this set that are not in `o`. */
  difference(o: IPSet): IPSet {
    return IPSet.unsafeFromNormalized(subtractRanges(this.v4, o.v4), subtractRanges(this.v6, o.v6));
  }

  /** True when every address of `x` is in the set (an address of a family the set lacks is not). */
  contains(x: Addr | Prefix | IPRange | IPSet): boolean {
    if (x instanceof IPSet) return coversRanges(this.v4, x.v4) && coversRanges(this.v6, x.v6);
    const r = valuePair(x);
    if (r instanceof IpamError) throw r;
    const { family, pair } = r;
    return coversRanges(this.rangesOf(family), [pair]);
  }

  /** True when the sets share at least one address. */
  overlaps(o: IPSet): boolean {
    return overlapRanges(this.v4, o.v4) || overlapRanges(this.v6, o.v6);
  }

  /** Number of addresses, both families. */
  size(): bigint {
    let n = 0n;
    for (const [lo, hi] of this.v4) n += hi - lo + 1n;
    for (const [lo, hi] of this.v6) n += hi - lo + 1n;
    return n;
  }

  isEmpty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  equals(o: IPSet): boolean {
    return equalRanges(this.v4, o.v4) && equalRanges(this.v6, o.v6);
  }

  /** The families that have at least one address, 4 first. */
  families(): Array<4 | 6> {
    const out: Array<4 | 6> = [];
    if (this.v4.length > 0) out.push(4);
    if (this.v6.length > 0) out.push(6);
    return out;
  }

  /** Canonical text: entries "a" or "a-b", comma-separated, IPv4 first; "" for the empty set. */
  toString(): string {
    return this.toJSON().join(',');
  }

  /** The canonical entries of toString() as an array; IPSet.from() reads them back. */
  toJSON(): string[] {
    return this.ranges().map((r) => (r.from.equals(r.to) ? r.from.toString() : `${r.from}-${r.to}`));
  }

  private toRanges(family: Family): IPRange[] {
    return this.rangesOf(family).map(([lo, hi]) =>
      rangeOf(Addr.fromBigInt(family, lo), Addr.fromBigInt(family, hi)),
    );
  }
}
