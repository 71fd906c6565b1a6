/** Stable codes of the errors the API server I/O layer raises. */
export type KubeErrorCode =
  | 'NO_CLUSTER'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ALREADY_EXISTS'
  | 'GONE'
  | 'FORBIDDEN'
  | 'INVALID'
  | 'HTTP_ERROR'
  | 'CONFLICT_RETRIES_EXHAUSTED'
  | 'INVALID_RESPONSE';

const MARKER = Symbol.for('@isthmus/k8s-adapter.KubeError');

/** An API server call that failed: `status` is the HTTP status (0 without a response), `reason` the Status reason. */
export class KubeError extends Error {
  readonly code: KubeErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  readonly status: number;
  constructor(
    code: KubeErrorCode,
    message: string,
    details: Record<string, unknown> & { status?: number } = {},
  ) {
    super(message);
    this.name = 'KubeError';
    this.code = code;
    this.status = details.status ?? 0;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a KubeError from any copy of this package. */
  static isInstance(value: unknown): value is KubeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** The error code for an HTTP status of the API server. */
export function codeForStatus(status: number, reason?: string): KubeErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return reason === 'AlreadyExists' ? 'ALREADY_EXISTS' : 'CONFLICT';
  if (status === 410) return 'GONE';
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 422 || status === 400) return 'INVALID';
  return 'HTTP_ERROR';
}
