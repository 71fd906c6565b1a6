/** Stable, machine-readable error codes of @isthmus/globalnet-ipam. */
export type GlobalnetErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CIDR'
  | 'INVALID_ADDRESS'
  | 'FAMILY_MISMATCH'
  | 'INVALID_ALLOTMENTS'
  | 'BLOCK_TOO_LARGE'
  | 'OUT_OF_RANGE'
  | 'CIDR_OVERLAP'
  | 'ALREADY_ALLOTTED'
  | 'RANGE_EXHAUSTED'
  | 'INVALID_SELECTOR'
  | 'INVALID_EGRESS_SIZE'
  | 'OWNER_CONFLICT'
  | 'GLOBALNET_EXHAUSTED'
  | 'GLOBAL_CIDR_TOO_SMALL'
  | 'SNAPSHOT_CONFLICT'
  | 'INVALID_NAT_INPUT'
  | 'INVALID_PEER'
  | 'REMAP_EXHAUSTED';

const MARKER = Symbol.for('@isthmus/globalnet-ipam.GlobalnetError');

/**
 * The one error class of @isthmus/globalnet-ipam. `code` is stable; `details` carries structured fields
 * (the offending value, the cluster holding a CIDR, every snapshot conflict, ...). A call that throws
 * changes no state.
 */
export class GlobalnetError extends Error {
  readonly code: GlobalnetErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: GlobalnetErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GlobalnetError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a GlobalnetError from any copy of this package (works across duplicated installs). */
  static isInstance(value: unknown): value is GlobalnetError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Quote a user-supplied value for an error message, whatever its type. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
