/** Stable, machine-readable error codes of @isthmus/ipam. */
export type IpamErrorCode =
  | 'INVALID_ADDRESS'
  | 'INVALID_PREFIX'
  | 'INVALID_RANGE'
  | 'FAMILY_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'INVALID_IP_SET'
  | 'INVALID_POOL_SPEC'
  | 'INVALID_SELECTOR'
  | 'POOL_EXHAUSTED'
  | 'NO_CONTIGUOUS_BLOCK'
  | 'ADDRESS_IN_USE'
  | 'OUT_OF_POOL'
  | 'OWNER_CONFLICT'
  | 'SNAPSHOT_CONFLICT'
  | 'ADDRESSES_STILL_IN_USE'
  | 'NO_POOL_AVAILABLE';

const MARKER = Symbol.for('@isthmus/ipam.IpamError');

/**
 * The one error class of @isthmus/ipam. `code` is stable; `details` carries structured fields
 * (the offending value, the pool, conflicting addresses, ...). A call that throws changes no state.
 */
export class IpamError extends Error {
  readonly code: IpamErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: IpamErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'IpamError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for an IpamError from any copy of this package (works across duplicated installs). */
  static isInstance(value: unknown): value is IpamError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Quote a user-supplied value for an error message, whatever its type. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value); // JSON.stringify(NaN) would say "null"
  if (value === undefined) return 'undefined';
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof value.toString === 'function' &&
    value.toString !== Object.prototype.toString
  ) {
    return String(value);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
