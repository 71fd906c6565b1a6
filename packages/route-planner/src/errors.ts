/** Stable, machine-readable error codes of @isthmus/route-planner. */
export type RoutePlannerErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_ADDRESS'
  | 'INVALID_PREFIX'
  | 'INVALID_MAC'
  | 'UNKNOWN_NIC'
  | 'INVALID_TOPOLOGY'
  | 'UNKNOWN_NODE'
  | 'UNKNOWN_CLUSTER'
  | 'DUPLICATE_NAME'
  | 'CIDR_OVERLAP'
  | 'DUPLICATE_ENTRY'
  | 'VTEP_POOL_EXHAUSTED'
  | 'SNAPSHOT_CONFLICT'
  | 'PARSE_ERROR'
  | 'RENDER_ERROR';

const MARKER = Symbol.for('@isthmus/route-planner.RoutePlannerError');

/**
 * The one error class of @isthmus/route-planner. `code` is stable; `details` carries structured fields
 * (the offending value, node, cluster, conflicting CIDRs, ...). A call that throws changes no state.
 */
export class RoutePlannerError extends Error {
  readonly code: RoutePlannerErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: RoutePlannerErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'RoutePlannerError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a RoutePlannerError from any copy of this package (works across duplicated installs). */
  static isInstance(value: unknown): value is RoutePlannerError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Quote a user-supplied value for an error message, whatever its type. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
