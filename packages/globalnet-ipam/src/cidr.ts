// Parsing at the package's edges: every bad value becomes a GlobalnetError naming the field and the text.
import { type Addr, type Family, IpamError, type Prefix, parseAddr, parsePrefix } from '@isthmus/ipam';
import { GlobalnetError, show } from './errors';

function cause(e: unknown): Record<string, unknown> {
  return IpamError.isInstance(e) ? { cause: e.code, causeMessage: e.message } : {};
}

/** Parse a CIDR strictly (host bits are an error) or throw INVALID_CIDR naming `field`. */
export function cidrOf(text: unknown, field: string): Prefix {
  try {
    return parsePrefix(text as string);
  } catch (e) {
    const why = IpamError.isInstance(e) ? e.message : String(e);
    throw new GlobalnetError('INVALID_CIDR', `${field} ${show(text)} is not a valid CIDR: ${why}`, {
      field,
      value: text,
      ...cause(e),
    });
  }
}

/** Parse an address strictly or throw INVALID_ADDRESS naming `field`. */
export function addrOf(text: unknown, field: string): Addr {
  try {
    return parseAddr(text as string);
  } catch (e) {
    const why = IpamError.isInstance(e) ? e.message : String(e);
    throw new GlobalnetError('INVALID_ADDRESS', `${field} ${show(text)} is not a valid IP address: ${why}`, {
      field,
      value: text,
      ...cause(e),
    });
  }
}

/** Throw FAMILY_MISMATCH unless `value` is of `family`. */
export function checkFamily(value: Addr | Prefix, family: Family, field: string, against: string): void {
  if (value.family !== family) {
    throw new GlobalnetError(
      'FAMILY_MISMATCH',
      `${field} ${value} is IPv${value.family} but ${against} is IPv${family}`,
      { field, value: value.toString(), family: value.family, expected: family },
    );
  }
}

/** [first, last] of a prefix as integers. */
export function spanOf(p: Prefix): [bigint, bigint] {
  return [p.first().toBigInt(), p.last().toBigInt()];
}

/** Bits in an address of the family. */
export function widthOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

/**
 * The lowest prefix of length `bits` inside `range` that touches no span of `taken` (sorted by start,
 * possibly overlapping), netipx RemoveFreePrefix-style; undefined when there is none.
 */
export function lowestFreeAligned(
  range: Prefix,
  bits: number,
  taken: ReadonlyArray<readonly [bigint, bigint]>,
): bigint | undefined {
  const size = 1n << BigInt(widthOf(range.family) - bits);
  const [lo, hi] = spanOf(range);
  const alignUp = (v: bigint) => ((v + size - 1n) / size) * size;
  let candidate = lo;
  for (const [a, b] of taken) {
    if (b < candidate) continue;
    if (candidate + size - 1n < a) break;
    candidate = alignUp(b + 1n);
    if (candidate > hi) return undefined;
  }
  return candidate + size - 1n <= hi ? candidate : undefined;
}
