/** Stable, machine-readable codes of the node agent's errors. */
export type AgentErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_PLAN'
  | 'UNSUPPORTED_CABLE'
  | 'SECRET_UNREADABLE'
  | 'SECRET_FILE_MODE'
  | 'INVALID_SECRET'
  | 'PARSE_ERROR'
  | 'COMMAND_FAILED'
  | 'NOT_CONVERGED';

const MARKER = Symbol.for('@isthmus/k8s-adapter.AgentError');

/**
 * An error of the node agent: a plan it cannot apply, a kernel read it cannot parse, a command that
 * failed. Messages never hold a secret (a command's stdin is never quoted; key material is redacted).
 */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: AgentErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AgentError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for an AgentError from any copy of this package. */
  static isInstance(value: unknown): value is AgentError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Quote a value for a message, whatever its type. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
