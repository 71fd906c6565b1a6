/** Stable, machine-readable error codes of @isthmus/cable. */
export type CableErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CLUSTER_ID'
  | 'INVALID_ADDRESS'
  | 'INVALID_PREFIX'
  | 'INVALID_PORT'
  | 'INVALID_INTERFACE_NAME'
  | 'INVALID_KEY'
  | 'INVALID_SECRET'
  | 'MISSING_SECRET'
  | 'INVALID_MTU'
  | 'MTU_TOO_SMALL'
  | 'FAMILY_MISMATCH'
  | 'ALLOWED_IPS_OVERLAP'
  | 'SUBNET_OVERLAP'
  | 'DUPLICATE_PEER'
  | 'NO_REACHABLE_ENDPOINT'
  | 'INVALID_LEASE'
  | 'VTEP_CONFLICT'
  | 'ENDPOINT_CONFLICT'
  | 'NOT_A_FAILOVER';

const MARKER = Symbol.for('@isthmus/cable.CableError');

/**
 * The one error class of @isthmus/cable. `code` is stable; `details` carries structured fields (the
 * offending value, the field it came from, conflicting peers, ...). Secrets are never part of either.
 */
export class CableError extends Error {
  readonly code: CableErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: CableErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CableError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a CableError from any copy of this package (works across duplicated installs). */
  static isInstance(value: unknown): value is CableError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Quote a user-supplied (non-secret) value for an error message, whatever its type. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
