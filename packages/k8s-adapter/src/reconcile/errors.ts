/** Stable codes of the reconcile core's misuse errors (bad input from objects is a Problem, not an error). */
export type ReconcileErrorCode = 'NOT_RECOVERED' | 'ALREADY_RECOVERED' | 'INVALID_EVENT' | 'INVALID_CONFIG';

const MARKER = Symbol.for('@isthmus/k8s-adapter.ReconcileError');

/** Thrown when the core is called out of order or with something that is not an object event. */
export class ReconcileError extends Error {
  readonly code: ReconcileErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ReconcileErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ReconcileError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a ReconcileError from any copy of this package. */
  static isInstance(value: unknown): value is ReconcileError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
