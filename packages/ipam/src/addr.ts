import { IpamError, show } from './errors';

/** Address family: 4 for IPv4, 6 for IPv6. */
export type Family = 4 | 6;

const TWO32 = 0x1_0000_0000;

/**
 * An immutable IPv4 or IPv6 address (the model is Go's netip.Addr, without zones).
 *
 * Internally four unsigned 32-bit words, most significant first; an IPv4 address keeps its value
 * in `w3` and zeros elsewhere. Compare with `equals()`/`compare()`, or use `toString()` (canonical)
 * as a map key: identity never matters.
 */
export class Addr {
  // Plain readonly fields, not Object.freeze: freezing costs more than the rest of an allocation
  // (measured), and plain fields keep structural equality (deep-equal, toEqual) meaningful.
  // `declare`: the constructor assigns them, so no ES2022 field initializer runs first; the
  // constructor stays small, and it is inlined into the allocator's hot path.
  declare readonly family: Family;
  /** @internal Most significant word. */ declare readonly w0: number;
  /** @internal */ declare readonly w1: number;
  /** @internal */ declare readonly w2: number;
  /** @internal Least significant word (the whole value of an IPv4 address). */ declare readonly w3: number;

  private constructor(family: Family, w0: number, w1: number, w2: number, w3: number) {
    this.family = family;
    this.w0 = w0;
    this.w1 = w1;
    this.w2 = w2;
    this.w3 = w3;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Addr(${this.toString()})`;
  }

  /** @internal Build from words without validation; callers guarantee uint32 words. */
  static unsafeFromWords(family: Family, w0: number, w1: number, w2: number, w3: number): Addr {
    return new Addr(family, w0, w1, w2, w3);
  }

  /** An IPv4 address from its unsigned 32-bit value. */
  static fromV4Number(value: number): Addr {
    if (!Number.isInteger(value) || value < 0 || value >= TWO32) {
      throw new IpamError('INVALID_ADDRESS', `${show(value)} is not an unsigned 32-bit IPv4 value`, {
        value,
      });
    }
    return new Addr(4, 0, 0, 0, value);
  }

  /** An address of the given family from its integer value. */
  static fromBigInt(family: Family, value: bigint): Addr {
    const max = family === 4 ? 0xffff_ffffn : (1n << 128n) - 1n;
    if (typeof value !== 'bigint' || value < 0n || value > max) {
      throw new IpamError('INVALID_ADDRESS', `${show(value)} is out of range for an IPv${family} address`, {
        value: String(value),
        family,
      });
    }
    return new Addr(
      family,
      Number((value >> 96n) & 0xffff_ffffn),
      Number((value >> 64n) & 0xffff_ffffn),
      Number((value >> 32n) & 0xffff_ffffn),
      Number(value & 0xffff_ffffn),
    );
  }

  /** An address from 4 (IPv4) or 16 (IPv6) bytes in network order. */
  static fromBytes(bytes: Uint8Array | readonly number[]): Addr {
    if (bytes.length !== 4 && bytes.length !== 16) {
      throw new IpamError('INVALID_ADDRESS', `an address needs 4 or 16 bytes, got ${bytes.length}`, {
        length: bytes.length,
      });
    }
    const w = [0, 0, 0, 0];
    const offset = bytes.length === 4 ? 12 : 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (!Number.isInteger(b) || b < 0 || b > 255) {
        throw new IpamError('INVALID_ADDRESS', `byte ${i} (${show(b)}) is not in 0..255`, {
          index: i,
          value: b,
        });
      }
      const k = (offset + i) >> 2;
      w[k] = (w[k]! * 256 + b) >>> 0;
    }
    return new Addr(bytes.length === 4 ? 4 : 6, w[0]!, w[1]!, w[2]!, w[3]!);
  }

  is4(): boolean {
    return this.family === 4;
  }

  is6(): boolean {
    return this.family === 6;
  }

  /** Bits in an address of this family: 32 or 128. */
  bitLength(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** The IPv4 value as an unsigned 32-bit number. Throws for IPv6. */
  toV4Number(): number {
    if (this.family !== 4) {
      throw new IpamError('FAMILY_MISMATCH', `${this.toString()} is not an IPv4 address`, {
        addr: this.toString(),
      });
    }
    return this.w3;
  }

  toBigInt(): bigint {
    return (BigInt(this.w0) << 96n) | (BigInt(this.w1) << 64n) | (BigInt(this.w2) << 32n) | BigInt(this.w3);
  }

  /** 4 or 16 bytes in network order. */
  toBytes(): Uint8Array {
    const words = this.family === 4 ? [this.w3] : [this.w0, this.w1, this.w2, this.w3];
    const out = new Uint8Array(words.length * 4);
    words.forEach((w, i) => {
      out[i * 4] = w >>> 24;
      out[i * 4 + 1] = (w >>> 16) & 0xff;
      out[i * 4 + 2] = (w >>> 8) & 0xff;
      out[i * 4 + 3] = w & 0xff;
    });
    return out;
  }

  /** True for ::ffff:a.b.c.d. */
  isV4Mapped(): boolean {
    return this.family === 6 && this.w0 === 0 && this.w1 === 0 && this.w2 === 0xffff;
  }

  /** The IPv4 address inside an IPv4-mapped IPv6 address; any other address unchanged. */
  unmap(): Addr {
    return this.isV4Mapped() ? new Addr(4, 0, 0, 0, this.w3) : this;
  }

  equals(other: Addr): boolean {
    return (
      this.family === other.family &&
      this.w3 === other.w3 &&
      this.w2 === other.w2 &&
      this.w1 === other.w1 &&
      this.w0 === other.w0
    );
  }

  /** Total order: every IPv4 address sorts before every IPv6 address, then by value. */
  compare(other: Addr): -1 | 0 | 1 {
    if (this.family !== other.family) return this.family < other.family ? -1 : 1;
    if (this.w0 !== other.w0) return this.w0 < other.w0 ? -1 : 1;
    if (this.w1 !== other.w1) return this.w1 < other.w1 ? -1 : 1;
    if (this.w2 !== other.w2) return this.w2 < other.w2 ? -1 : 1;
    if (this.w3 !== other.w3) return this.w3 < other.w3 ? -1 : 1;
    return 0;
  }

  /** The next address, or undefined after the last address of the family. */
  next(): Addr | undefined {
    return this.addOffset(1);
  }

  /** The previous address, or undefined before the first address of the family. */
  prev(): Addr | undefined {
    return this.addOffset(-1);
  }

  /**
   * This address plus a signed offset (|offset| < 2^53), or undefined when the result leaves the family's
   * address space.
   */
  addOffset(offset: number): Addr | undefined {
    if (!Number.isSafeInteger(offset)) {
      throw new IpamError('INVALID_ARGUMENT', `offset ${show(offset)} is not a safe integer`, { offset });
    }
    if (this.family === 4) {
      const v = this.w3 + offset;
      return v < 0 || v >= TWO32 ? undefined : new Addr(4, 0, 0, 0, v);
    }
    const hi = Math.floor(offset / TWO32);
    let lo = this.w3 + (offset - hi * TWO32);
    let carry = Math.floor(lo / TWO32);
    lo -= carry * TWO32;
    let w2 = this.w2 + hi + carry;
    carry = Math.floor(w2 / TWO32);
    w2 -= carry * TWO32;
    let w1 = this.w1 + carry;
    carry = Math.floor(w1 / TWO32);
    w1 -= carry * TWO32;
    let w0 = this.w0 + carry;
    carry = Math.floor(w0 / TWO32);
    w0 -= carry * TWO32;
    return carry !== 0 ? undefined : new Addr(6, w0, w1, w2, lo);
  }

  /** Canonical text: dotted quad, or RFC 5952 for IPv6 (mixed form for IPv4-mapped addresses). */
  toString(): string {
    return this.family === 4 ? formatV4(this.w3) : formatV6(this.w0, this.w1, this.w2, this.w3);
  }

  toJSON(): string {
    return this.toString();
  }
}

export function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

function formatV6(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${formatV4(w3)}`;
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

// ---------------------------------------------------------------------------------------------
// Parsing. The fast paths return -1 / false on failure; the error path re-parses for a reason.

/** Parse a strict dotted quad in text[start, end); -1 when invalid. */
export function parseV4Fast(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let leadingZero = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 0) leadingZero = c === 48;
      else if (leadingZero) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Array<number>(8);

/** Parse strict IPv6 text in text[start, end) into `out` (4 words); false when invalid. */
export function parseV6Fast(text: string, start: number, end: number, out: number[]): boolean {
  let n = 0; // groups written
  let gap = -1; // index in groups where '::' stands
  let i = start;
  if (end - start < 2) return false;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return true;
    }
  }
  while (i < end) {
    if (n === 8) return false;
    // A group: 1-4 hex digits, or a trailing dotted quad.
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
    }
    if (j < end && text.charCodeAt(j) === 46) {
      if (n > 6) return false;
      const v4 = parseV4Fast(text, i, end);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[n++] = value;
    i = j;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false; // trailing single ':'
    }
  }
  if (gap >= 0) {
    if (n === 8) return false; // '::' must stand for at least one group
    const tail = n - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  } else if (n !== 8) {
    return false;
  }
  out[0] = (groups[0]! * 65536 + groups[1]!) >>> 0;
  out[1] = (groups[2]! * 65536 + groups[3]!) >>> 0;
  out[2] = (groups[4]! * 65536 + groups[5]!) >>> 0;
  out[3] = (groups[6]! * 65536 + groups[7]!) >>> 0;
  return true;
}

const scratch = [0, 0, 0, 0];

/** @internal Parse text[start, end) as an address; undefined when invalid. */
export function tryParseAddrRange(text: string, start: number, end: number): Addr | undefined {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) {
      return parseV6Fast(text, start, end, scratch)
        ? Addr.unsafeFromWords(6, scratch[0]!, scratch[1]!, scratch[2]!, scratch[3]!)
        : undefined;
    }
    if (c === 46) break;
  }
  const v4 = parseV4Fast(text, start, end);
  return v4 < 0 ? undefined : Addr.unsafeFromWords(4, 0, 0, 0, v4);
}

/** Why `text` is not a valid address (only called on the error path). */
export function explainBadAddr(text: string): string {
  if (text.length === 0) return 'it is empty';
  if (text.includes('%')) return 'zones are not allowed';
  if (/\s/.test(text)) return 'it contains white space';
  if (text.includes(':')) {
    if ((text.match(/::/g) ?? []).length > 1) return "'::' may appear only once";
    if (/:::/.test(text)) return "':::' is not valid";
    if (/[^0-9a-fA-F:.]/.test(text)) return 'it contains a character that is not a hex digit, colon or dot';
    if (/[0-9a-fA-F]{5,}/.test(text)) return 'a group has more than 4 hex digits';
    if (/^:[^:]|[^:]:$/.test(text)) return 'it starts or ends with a single colon';
    const tail = text.slice(text.lastIndexOf(':') + 1);
    if (
      text.includes('.') &&
      (parseV4Fast(tail, 0, tail.length) < 0 || text.indexOf('.') < text.length - tail.length)
    )
      return 'an embedded IPv4 address is malformed or not in the last 32 bits';
    // A well-formed trailing dotted quad counts as two groups.
    return text.includes('::') ? "'::' leaves no group to stand for" : 'it does not have 8 groups';
  }
  const parts = text.split('.');
  if (parts.length !== 4) return `an IPv4 address has 4 decimal octets, not ${parts.length}`;
  for (const p of parts) {
    if (p === '') return 'an octet is empty';
    if (!/^[0-9]+$/.test(p)) return `octet ${JSON.stringify(p)} is not decimal`;
    if (p.length > 1 && p.startsWith('0'))
      return `octet ${JSON.stringify(p)} has a leading zero (octal is not accepted)`;
    if (Number(p) > 255) return `octet ${p} is over 255`;
  }
  return 'it is malformed';
}

/**
 * Parse an IPv4 or IPv6 address strictly: no leading zeros in IPv4 octets, no shortened IPv4, no zones,
 * at most one '::'. Throws IpamError INVALID_ADDRESS naming the text and the reason.
 */
export function parseAddr(text: string): Addr {
  if (typeof text !== 'string') {
    throw new IpamError('INVALID_ADDRESS', `address must be a string, got ${show(text)}`, { value: text });
  }
  const a = tryParseAddrRange(text, 0, text.length);
  if (a === undefined) {
    throw new IpamError('INVALID_ADDRESS', `invalid IP address ${show(text)}: ${explainBadAddr(text)}`, {
      value: text,
    });
  }
  return a;
}

/** Like parseAddr, but returns undefined instead of throwing. */
export function tryParseAddr(text: string): Addr | undefined {
  return typeof text === 'string' ? tryParseAddrRange(text, 0, text.length) : undefined;
}

/** Order for sorting addresses. */
export function compareAddr(a: Addr, b: Addr): number {
  return a.compare(b);
}
