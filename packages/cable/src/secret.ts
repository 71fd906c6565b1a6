import { CableError } from './errors';

/** What a Secret prints as, everywhere: toString, JSON, util.inspect, template strings. */
export const REDACTED = '[redacted]';

// Symbol.for keeps the planner free of node:util while still hooking console.log / util.inspect.
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const MARKER = Symbol.for('@isthmus/cable.Secret');

/**
 * A private key or pre-shared key. The value sits in a private field; every way of printing or
 * serialising the object yields `[redacted]`. Only renderers that must emit it call `reveal()`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string') {
      throw new CableError('INVALID_SECRET', `a secret must be a string, got ${typeof value}`, {
        type: typeof value,
      });
    }
    this.#value = value;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a Secret from any copy of this package (works across duplicated installs). */
  static isInstance(value: unknown): value is Secret {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** The secret text. Call it only where the value must be written out (a renderer, a 0600 file). */
  reveal(): string {
    return this.#value;
  }

  /** Constant-shape comparison of two secrets' values (for diffs; not a timing-safe compare). */
  equals(other: Secret): boolean {
    return Secret.isInstance(other) && other.reveal() === this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [INSPECT](): string {
    return `Secret(${REDACTED})`;
  }

  get [Symbol.toStringTag](): string {
    return 'Secret';
  }
}
