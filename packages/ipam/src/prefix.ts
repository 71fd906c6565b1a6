import { Addr, explainBadAddr, type Family, tryParseAddrRange } from './addr';
import { IpamError, show } from './errors';

/** Options for parsePrefix. */
export interface ParsePrefixOptions {
  /** Clear host bits instead of rejecting them (`10.1.2.3/8` becomes `10.0.0.0/8`). Default false. */
  readonly mask?: boolean;
}

/** Mask word `w` (0..3) of an address so that only the first `bits` bits of the address remain. */
function maskWord(word: number, index: number, bits: number): number {
  const keep = bits - index * 32;
  if (keep >= 32) return word;
  if (keep <= 0) return 0;
  return (word & ~(0xffff_ffff >>> keep)) >>> 0;
}

function hostWord(word: number, index: number, bits: number): number {
  const keep = bits - index * 32;
  if (keep >= 32) return word;
  if (keep <= 0) return 0xffff_ffff;
  return (word | (0xffff_ffff >>> keep)) >>> 0;
}

/**
 * An immutable IP prefix (CIDR): an address and a prefix length. Values built by parsePrefix are always
 * canonical (host bits clear); use `Prefix.from(addr, bits)` plus `masked()` to canonicalise explicitly.
 */
export class Prefix {
  readonly addr: Addr;
  readonly bits: number;

  private constructor(addr: Addr, bits: number) {
    this.addr = addr;
    this.bits = bits;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Prefix(${this.toString()})`;
  }

  /** A prefix from an address and a length. Host bits may be set; see `isMasked()` and `masked()`. */
  static from(addr: Addr, bits: number): Prefix {
    const max = addr.bitLength();
    if (!Number.isInteger(bits) || bits < 0 || bits > max) {
      throw new IpamError(
        'INVALID_PREFIX',
        `prefix length ${show(bits)} is out of range 0..${max} for ${addr}`,
        {
          value: `${addr}/${bits}`,
          reason: 'length',
        },
      );
    }
    return new Prefix(addr, bits);
  }

  get family(): Family {
    return this.addr.family;
  }

  /** True when no host bits are set. */
  isMasked(): boolean {
    return this.addr.equals(this.first());
  }

  /** The same prefix with host bits cleared. */
  masked(): Prefix {
    return this.isMasked() ? this : new Prefix(this.first(), this.bits);
  }

  /** The first address (the network address). */
  first(): Addr {
    const a = this.addr;
    const b = this.family === 4 ? this.bits + 96 : this.bits;
    return Addr.unsafeFromWords(
      a.family,
      maskWord(a.w0, 0, b),
      maskWord(a.w1, 1, b),
      maskWord(a.w2, 2, b),
      maskWord(a.w3, 3, b),
    );
  }

  /** The last address (the broadcast address for IPv4). */
  last(): Addr {
    const a = this.addr;
    if (this.family === 4) return Addr.unsafeFromWords(4, 0, 0, 0, hostWord(a.w3, 0, this.bits));
    const b = this.bits;
    return Addr.unsafeFromWords(
      6,
      hostWord(a.w0, 0, b),
      hostWord(a.w1, 1, b),
      hostWord(a.w2, 2, b),
      hostWord(a.w3, 3, b),
    );
  }

  /** Number of addresses. */
  size(): bigint {
    return 1n << BigInt(this.addr.bitLength() - this.bits);
  }

  /** True when the address (same family) lies inside the prefix. */
  contains(other: Addr | Prefix): boolean {
    if (other instanceof Prefix) {
      return other.family === this.family && other.bits >= this.bits && this.contains(other.addr);
    }
    if (other.family !== this.family) return false;
    const a = this.addr;
    const b = this.family === 4 ? this.bits + 96 : this.bits;
    return (
      maskWord(other.w3, 3, b) === maskWord(a.w3, 3, b) &&
      maskWord(other.w2, 2, b) === maskWord(a.w2, 2, b) &&
      maskWord(other.w1, 1, b) === maskWord(a.w1, 1, b) &&
      maskWord(other.w0, 0, b) === maskWord(a.w0, 0, b)
    );
  }

  /** True when the two prefixes share at least one address. */
  overlaps(other: Prefix): boolean {
    if (other.family !== this.family) return false;
    return this.bits <= other.bits ? this.contains(other.addr) : other.contains(this.addr);
  }

  /** All subnets of the given longer length, in address order (lazily: a /64 has 2^64 /128s). */
  subnets(newBits: number): IterableIterator<Prefix> {
    const max = this.addr.bitLength();
    if (!Number.isInteger(newBits) || newBits < this.bits || newBits > max) {
      throw new IpamError(
        'INVALID_PREFIX',
        `cannot split ${this} into /${show(newBits)}: the length must be between ${this.bits} and ${max}`,
        { value: this.toString(), newBits, reason: 'length' },
      );
    }
    // Validate above, at the call; a generator body would defer the error to the first next().
    return this.subnetsUnchecked(newBits);
  }

  private *subnetsUnchecked(newBits: number): IterableIterator<Prefix> {
    const step = 1n << BigInt(this.addr.bitLength() - newBits);
    const start = this.first().toBigInt();
    const count = 1n << BigInt(newBits - this.bits);
    for (let i = 0n; i < count; i++) {
      yield new Prefix(Addr.fromBigInt(this.family, start + i * step), newBits);
    }
  }

  /** The enclosing prefix of the given shorter length (default: one bit shorter). */
  supernet(newBits: number = this.bits - 1): Prefix {
    if (!Number.isInteger(newBits) || newBits < 0 || newBits > this.bits) {
      throw new IpamError(
        'INVALID_PREFIX',
        `${this} has no supernet of length /${show(newBits)}: the length must be between 0 and ${this.bits}`,
        { value: this.toString(), newBits, reason: 'length' },
      );
    }
    return new Prefix(this.addr, newBits).masked();
  }

  /** The next prefix of the same length, or undefined at the end of the address space. */
  next(): Prefix | undefined {
    const n = this.last().next();
    return n === undefined ? undefined : new Prefix(n, this.bits);
  }

  /** The previous prefix of the same length, or undefined at the start of the address space. */
  prev(): Prefix | undefined {
    const p = this.first().prev();
    return p === undefined ? undefined : new Prefix(p, this.bits).masked();
  }

  equals(other: Prefix): boolean {
    return this.bits === other.bits && this.addr.equals(other.addr);
  }

  /** Order by address family, then address (the first address for masked prefixes), then length (shorter first). */
  compare(other: Prefix): -1 | 0 | 1 {
    const c = this.addr.compare(other.addr);
    if (c !== 0) return c;
    return this.bits === other.bits ? 0 : this.bits < other.bits ? -1 : 1;
  }

  toString(): string {
    return `${this.addr.toString()}/${this.bits}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function parseBits(text: string, start: number, max: number): number {
  const len = text.length - start;
  if (len === 0 || len > 3) return -1;
  let v = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  if (len > 1 && text.charCodeAt(start) === 48) return -1; // no leading zeros
  return v <= max ? v : -1;
}

function badPrefix(text: string, reason: string, kind: string): IpamError {
  return new IpamError('INVALID_PREFIX', `invalid prefix ${show(text)}: ${reason}`, {
    value: text,
    reason: kind,
  });
}

/** @internal Parse without throwing: a Prefix, or an IpamError describing the problem. */
export function parsePrefixResult(text: string, options?: ParsePrefixOptions): Prefix | IpamError {
  if (typeof text !== 'string') {
    return new IpamError('INVALID_PREFIX', `prefix must be a string, got ${show(text)}`, {
      value: text,
      reason: 'type',
    });
  }
  const slash = text.indexOf('/');
  if (slash < 0) return badPrefix(text, "it has no '/length'", 'syntax');
  const addr = tryParseAddrRange(text, 0, slash);
  if (addr === undefined) {
    const a = text.slice(0, slash);
    return badPrefix(text, `address ${show(a)} is invalid: ${explainBadAddr(a)}`, 'address');
  }
  const max = addr.bitLength();
  const bits = parseBits(text, slash + 1, max);
  if (bits < 0) {
    return badPrefix(
      text,
      `length ${show(text.slice(slash + 1))} is not a decimal number in 0..${max}`,
      'length',
    );
  }
  const p = Prefix.from(addr, bits);
  if (p.isMasked()) return p;
  if (options?.mask === true) return p.masked();
  return badPrefix(
    text,
    `host bits are set (did you mean ${p.masked()}? pass { mask: true } to clear them)`,
    'host-bits',
  );
}

/**
 * Parse a CIDR strictly. Host bits set are an error unless `{ mask: true }` is passed.
 * Throws IpamError INVALID_PREFIX naming the text and the reason.
 */
export function parsePrefix(text: string, options?: ParsePrefixOptions): Prefix {
  const r = parsePrefixResult(text, options);
  if (r instanceof IpamError) throw r;
  return r;
}

/** Like parsePrefix, but returns undefined instead of throwing. */
export function tryParsePrefix(text: string, options?: ParsePrefixOptions): Prefix | undefined {
  const r = parsePrefixResult(text, options);
  return r instanceof IpamError ? undefined : r;
}

/** The single-address prefix (/32 or /128) of an address. */
export function prefixOfAddr(addr: Addr): Prefix {
  return Prefix.from(addr, addr.bitLength());
}
