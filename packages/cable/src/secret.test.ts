import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planCable } from './plan';
import { REDACTED, Secret } from './secret';
import { meshEndpoint, randomKey, thrown } from './test-support';

describe('Secret', () => {
  it('prints as [redacted] through toString, JSON, util.inspect and template strings; reveal() gives the value', () => {
    const s = new Secret('hunter2-hunter2-hunter2');
    expect(String(s)).toBe(REDACTED);
    expect(`${s}`).toBe(REDACTED);
    expect(JSON.stringify({ s })).toBe(`{"s":"${REDACTED}"}`);
    expect(inspect(s)).toBe(`Secret(${REDACTED})`);
    expect(inspect({ deep: { s } }, { depth: 5 })).not.toContain('hunter2');
    expect(Object.keys(s)).toEqual([]);
    expect(s.reveal()).toBe('hunter2-hunter2-hunter2');
    expect(s.equals(new Secret('hunter2-hunter2-hunter2'))).toBe(true);
    expect(s.equals(new Secret('other'))).toBe(false);
    expect(Secret.isInstance(s)).toBe(true);
    expect(Secret.isInstance({ reveal: () => 'x' })).toBe(false);
  });

  it('refuses a non-string', () => {
    expect(thrown(() => new Secret(42 as never)).code).toBe('INVALID_SECRET');
  });

  it('no plan of any driver shows its private key or PSK in JSON, util.inspect or String', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({
          minLength: 16,
          maxLength: 40,
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/'),
        }),
        (priv, psk, ipsecPsk) => {
          const privateKey = Buffer.from(priv).toString('base64');
          const presharedKey = Buffer.from(psk).toString('base64');
          const local = meshEndpoint(0);
          const remote = meshEndpoint(1, { publicKey: randomKey() });
          const wg = planCable(local, remote, {
            driver: 'wireguard',
            privateKey,
            presharedKeys: { c1: presharedKey },
          });
          const ls = planCable(local, remote, { driver: 'libreswan', psk: ipsecPsk });
          for (const text of [JSON.stringify(wg), inspect(wg, { depth: 10 }), String(wg.privateKey)]) {
            expect(text).not.toContain(privateKey);
            expect(text).not.toContain(presharedKey);
          }
          for (const text of [JSON.stringify(ls), inspect(ls, { depth: 10 })])
            expect(text).not.toContain(ipsecPsk);
          expect(wg.privateKey.reveal()).toBe(privateKey);
          expect(wg.peers[0]!.presharedKey!.reveal()).toBe(presharedKey);
        },
      ),
      { numRuns: 50 },
    );
  });
});
