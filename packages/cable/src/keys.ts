import { CableError } from './errors';
import { Secret } from './secret';

// 32 bytes in standard base64 is 43 characters and one "=". 32*8 = 256 bits fill 42 characters and
// 4 bits of the 43rd, so the 43rd must have its 2 low bits zero: one of "AEIMQUYcgkosw048".
const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

const SECRET_KEY_RULE =
  'it must be 32 bytes in canonical base64 (44 characters ending in "=", as `wg genkey` prints)';

/** Why `text` is not a WireGuard key, or null when it is one; never echoes the text. */
export function wireGuardKeyProblem(text: unknown): string | null {
  if (typeof text !== 'string') return `must be a string, got ${typeof text}`;
  if (text.length !== 44) return `must be 44 base64 characters (32 bytes), got ${text.length} characters`;
  if (!text.endsWith('=')) return 'must end with "=" (32 bytes in base64)';
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return 'contains a character outside the base64 alphabet';
  if (!KEY.test(text)) return 'is not canonical base64 (its last character encodes stray bits)';
  return null;
}

/**
 * A public WireGuard key (32 bytes, base64 as `wg pubkey` prints it). Public keys are not secret, so
 * the error names the value.
 */
export function checkPublicKey(text: unknown, field: string): string {
  const why = wireGuardKeyProblem(text);
  if (why !== null) {
    throw new CableError(
      'INVALID_KEY',
      `${field} ${JSON.stringify(String(text))} is not a WireGuard key: ${why}`,
      {
        field,
        value: text,
      },
    );
  }
  return text as string;
}

/**
 * A private or pre-shared WireGuard key, as a Secret. The error names the field and states the rule;
 * it says nothing about the value (not its length, not which character is wrong).
 */
export function checkSecretKey(value: unknown, field: string): Secret {
  if (value === undefined || value === null) {
    throw new CableError('MISSING_SECRET', `${field} is required`, { field });
  }
  const text = Secret.isInstance(value) ? value.reveal() : value;
  // One message for every bad key: the specific problem would tell its length or last character.
  if (wireGuardKeyProblem(text) !== null) {
    throw new CableError('INVALID_KEY', `${field} is not a WireGuard key: ${SECRET_KEY_RULE}`, { field });
  }
  return Secret.isInstance(value) ? value : new Secret(text as string);
}
