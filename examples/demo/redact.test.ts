import { describe, expect, it } from 'vitest';
import { generateScenarioKeys } from '../../e2e/kernel';
import { planScenario } from '../../e2e/scenario';
import { assertNoSecrets, redactSecrets, secretsOf } from './redact';

describe('demo secrets in error messages', () => {
  const scenario = planScenario({ driver: 'wireguard', mode: 'gateway', keys: generateScenarioKeys() });
  const secrets = secretsOf(scenario);

  it('an error quoting a private key (twice) is printed with [redacted] in its place, the rest kept', () => {
    expect(secrets.length).toBeGreaterThan(0);
    const key = secrets[0]!;
    const msg = `wg setconf west-gw failed: PrivateKey = ${key}\nline 3: ${key} rejected (exit 1)`;
    const out = redactSecrets(msg, secrets);
    expect(out).not.toContain(key);
    expect(out).toBe(
      'wg setconf west-gw failed: PrivateKey = [redacted]\nline 3: [redacted] rejected (exit 1)',
    );
    // What main.ts then writes passes the final check that refuses to print a secret.
    expect(assertNoSecrets(out, secrets)).toBe(out);
    expect(() => assertNoSecrets(msg, secrets)).toThrow(
      /refusing to print: the output would contain secret #1/,
    );
  });

  it('every secret of the scenario is redacted, and text without one is unchanged', () => {
    const all = secrets.join(' and ');
    expect(secrets.some((s) => redactSecrets(all, secrets).includes(s))).toBe(false);
    expect(redactSecrets('no key here, only text', secrets)).toBe('no key here, only text');
    expect(redactSecrets('', secrets)).toBe('');
    expect(redactSecrets('x', [''])).toBe('x');
  });
});
