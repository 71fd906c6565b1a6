// Helpers shared by the tests of this package (not part of the public API, not bundled).
import { Validator } from 'ip-num';
import { expect } from 'vitest';
import { IpamError } from './errors';

/** Run fn, assert it threw an IpamError (by marker and by class), and return it. */
export function thrown(fn: () => unknown): IpamError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an IpamError to be thrown').toBeDefined();
  expect(IpamError.isInstance(caught), `not an IpamError: ${String(caught)}`).toBe(true);
  expect(caught).toBeInstanceOf(IpamError);
  return caught as IpamError;
}

/** Whether ip-num's validators accept the text as an IPv4 or IPv6 address (kind 'addr') or CIDR. */
export function ipNumAccepts(text: string, kind: 'addr' | 'cidr'): boolean {
  const safe = (f: () => [boolean, string[]]) => {
    try {
      return f()[0];
    } catch {
      return false;
    }
  };
  return kind === 'addr'
    ? safe(() => Validator.isValidIPv4String(text)) || safe(() => Validator.isValidIPv6String(text))
    : safe(() => Validator.isValidIPv4CidrRange(text)) || safe(() => Validator.isValidIPv6CidrRange(text));
}
