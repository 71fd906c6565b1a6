// Key generation needs randomness and node:crypto, so it lives outside the pure planner.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { checkSecretKey } from './keys';
import { Secret } from './secret';

export interface WireGuardKeyPair {
  /** Base64 of the 32-byte clamped X25519 scalar, as `wg genkey` prints it (redacted when printed). */
  readonly privateKey: Secret;
  /** Base64 of the 32-byte public key, as `wg pubkey` prints it. */
  readonly publicKey: string;
}

const b64 = (url: string) => Buffer.from(url, 'base64url').toString('base64');

// RFC 7748 clamping, as `wg genkey` does; X25519 clamps anyway, so the public key is unchanged.
function clamp(raw: Buffer): Buffer {
  const k = Buffer.from(raw);
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return k;
}

/** A new WireGuard key pair (X25519 through node:crypto). */
export function generateWireGuardKeyPair(): WireGuardKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const d = clamp(Buffer.from(jwk.d!, 'base64url')).toString('base64');
  return { privateKey: new Secret(d), publicKey: b64(jwk.x!) };
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410): SEQUENCE, version 0, OID 1.3.101.110, OCTET STRING.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key of a WireGuard private key (what `wg pubkey` prints for it). */
export function wireGuardPublicKey(privateKey: Secret | string): string {
  const raw = Buffer.from(checkSecretKey(privateKey, 'privateKey').reveal(), 'base64');
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  return b64(createPublicKey(key).export({ format: 'jwk' }).x!);
}
