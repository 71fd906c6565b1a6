// Helpers shared by the tests of this package (not part of the public API, not bundled).
import { expect } from 'vitest';
import { GlobalnetError, type GlobalnetErrorCode } from './errors';

/** Run fn, assert it threw a GlobalnetError with the code (by marker and by class), and return it. */
export function thrown(fn: () => unknown, code?: GlobalnetErrorCode): GlobalnetError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a GlobalnetError to be thrown').toBeDefined();
  expect(GlobalnetError.isInstance(caught), `not a GlobalnetError: ${String(caught)}`).toBe(true);
  expect(caught).toBeInstanceOf(GlobalnetError);
  if (code !== undefined) expect((caught as GlobalnetError).code, (caught as Error).message).toBe(code);
  return caught as GlobalnetError;
}

/** A deep copy that is deep-frozen, to prove a function never mutates its input. */
export function frozen<T>(value: T): T {
  const copy = structuredClone(value);
  const deep = (v: unknown): void => {
    if (typeof v === 'object' && v !== null) {
      for (const x of Object.values(v)) deep(x);
      Object.freeze(v);
    }
  };
  deep(copy);
  return copy;
}

/** `nft -j list ruleset` without the parts that change on every load (handles, metainfo). */
export function stableRuleset(json: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (k !== 'handle') out[k] = strip(x);
      return out;
    }
    return v;
  };
  const parsed = JSON.parse(json) as { nftables: Array<Record<string, unknown>> };
  return strip(parsed.nftables.filter((o) => !('metainfo' in o)));
}
