// The node's WireGuard private key, read from the file the NodePlan names (mode 0600 on the node).
import { readFile } from 'node:fs/promises';
import { Secret, wireGuardKeyProblem, wireGuardPublicKey } from '@isthmus/cable';
import { AgentError, show } from './errors';
import type { CableKey } from './pass';

/** Reads a file's text; injectable so tests and other hosts can supply the key another way. */
export type ReadSecretFile = (path: string) => Promise<string>;

const readUtf8: ReadSecretFile = (path) => readFile(path, 'utf8');

/**
 * The key in `path` (`wg genkey` output, surrounding whitespace ignored) and its public key. Errors name
 * the file and the rule, never anything about the content.
 */
export async function readCableKey(path: string, read: ReadSecretFile = readUtf8): Promise<CableKey> {
  let text: string;
  try {
    text = (await read(path)).trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AgentError(
      'SECRET_UNREADABLE',
      `cannot read the cable key file ${show(path)}${code ? ` (${code})` : ''}`,
      {
        path,
        ...(code === undefined ? {} : { errno: code }),
      },
    );
  }
  if (wireGuardKeyProblem(text) !== null) {
    throw new AgentError(
      'INVALID_SECRET',
      `the cable key file ${show(path)} does not hold a WireGuard private key (32 bytes in base64, as \`wg genkey\` prints)`,
      { path },
    );
  }
  const privateKey = new Secret(text);
  return { privateKey, publicKey: wireGuardPublicKey(privateKey) };
}
