import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args';

const fail = (argv: string[]) => {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`parseArgs(${JSON.stringify(argv)}) did not throw`);
};

describe('parseArgs', () => {
  it('defaults to the WireGuard gateway plan, printed as tables', () => {
    expect(parseArgs([])).toEqual({
      apply: false,
      json: false,
      help: false,
      driver: 'wireguard',
      mode: 'gateway',
    });
  });

  it('reads --driver/--mode with a space or "=", flags, and ignores the "--" pnpm passes through', () => {
    expect(parseArgs(['--', '--apply', '--driver', 'vxlan', '--mode=p2p', '--json'])).toEqual({
      apply: true,
      json: true,
      help: false,
      driver: 'vxlan',
      mode: 'p2p',
    });
    expect(parseArgs(['-h']).help).toBe(true);
  });

  it('names the bad value, the missing value and the unknown option', () => {
    const bad = fail(['--driver', 'ipsec']);
    expect(bad.code).toBe('INVALID_VALUE');
    expect(bad.message).toContain('"ipsec"');
    expect(fail(['--mode']).code).toBe('MISSING_VALUE');
    expect(fail(['--mode=']).code).toBe('MISSING_VALUE');
    const unknown = fail(['--aply']);
    expect(unknown.code).toBe('UNKNOWN_OPTION');
    expect(unknown.message).toContain('--aply');
    expect(fail(['--json=yes']).code).toBe('UNKNOWN_OPTION');
  });
});
