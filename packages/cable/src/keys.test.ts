import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPublicKey, checkSecretKey, wireGuardKeyProblem } from './keys';
import { Secret } from './secret';
import { keyArb, thrown } from './test-support';

const GOOD = 'YOsCNwwBOmcFjmDS4b9RiTn0SXKL3QwW5cESNyuPt1w=';
const SECRET_RULE =
  'privateKey is not a WireGuard key: it must be 32 bytes in canonical base64 (44 characters ending in "=", as `wg genkey` prints)';

describe('WireGuard keys', () => {
  it('accept every 32-byte value in canonical base64', () => {
    fc.assert(
      fc.property(keyArb, (k) => {
        expect(wireGuardKeyProblem(k)).toBeNull();
        expect(checkPublicKey(k, 'publicKey')).toBe(k);
      }),
    );
  });

  it('reject other lengths, a missing "=", characters outside base64 and non-canonical encodings', () => {
    expect(wireGuardKeyProblem(GOOD.slice(0, 43))).toMatch(/44 base64 characters/);
    expect(wireGuardKeyProblem(`${GOOD.slice(0, 43)}A`)).toMatch(/end with "="/);
    expect(wireGuardKeyProblem(`${GOOD.slice(0, 10)}-${GOOD.slice(11)}`)).toMatch(/alphabet/);
    expect(wireGuardKeyProblem(`${GOOD.slice(0, 42)}x=`)).toMatch(/canonical/); // stray low bits
    expect(wireGuardKeyProblem(Buffer.alloc(31).toString('base64'))).not.toBeNull();
    expect(wireGuardKeyProblem(Buffer.alloc(33).toString('base64'))).not.toBeNull();
    expect(wireGuardKeyProblem(42)).toMatch(/string/);
  });

  it('any other byte length is refused', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }).filter((b) => b.length !== 32),
        (b) => {
          expect(wireGuardKeyProblem(Buffer.from(b).toString('base64'))).not.toBeNull();
        },
      ),
    );
  });

  it('a bad public key is named in the error (it is public); a bad private key never is', () => {
    const pub = thrown(() => checkPublicKey('not-a-key', 'remote.publicKey'));
    expect(pub.code).toBe('INVALID_KEY');
    expect(pub.message).toContain('not-a-key');
    const secretText = `${GOOD.slice(0, 42)}x=`;
    const priv = thrown(() => checkSecretKey(secretText, 'privateKey'));
    expect(priv.code).toBe('INVALID_KEY');
    expect(priv.message).toBe(SECRET_RULE);
    expect(JSON.stringify(priv.details)).not.toContain(secretText);
    expect(priv.stack ?? '').not.toContain(secretText);
    expect(thrown(() => checkSecretKey(undefined, 'privateKey')).code).toBe('MISSING_SECRET');
    expect(checkSecretKey(new Secret(GOOD), 'privateKey').reveal()).toBe(GOOD);
  });

  it('a bad private or preshared key gives the same error whatever its length or content', () => {
    const bad = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
      keyArb.map((k) => `${k.slice(0, 42)}x=`),
    );
    fc.assert(
      fc.property(bad, (text) => {
        if (wireGuardKeyProblem(text) === null) return;
        const e = thrown(() => checkSecretKey(text, 'privateKey'));
        expect(e.message).toBe(SECRET_RULE);
        expect(e.details).toEqual({ field: 'privateKey' });
      }),
    );
    expect(thrown(() => checkSecretKey(GOOD.slice(0, 10), 'privateKey')).message).not.toMatch(/\b10\b/);
  });
});
