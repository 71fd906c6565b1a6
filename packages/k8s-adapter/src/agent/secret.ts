// The node's WireGuard private key, read from the file the NodePlan names (mode 0600 on the node).
import { open } from 'node:fs/promises';
import { Secret, wireGuardKeyProblem, wireGuardPublicKey } from '@isthmus/cable';
import { AgentError, show } from './errors';
import type { CableKey } from './pass';

/** Reads a file's text; injectable so tests and other hosts can supply the key another way. */
export type ReadSecretFile = (path: string) => Promise<string>;

/**
 * The default reader: a regular file that only its owner may read or write (mode 0600 or stricter, as
 * ssh demands of private keys). The mode is read from the opened file, so it is the file that is read.
 */
const readOwnerOnly: ReadSecretFile = async (path) => {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile() || (st.mode & 0o077) !== 0) {
      throw new AgentError(
        'SECRET_FILE_MODE',
        `the cable key file ${show(path)} is ${st.isFile() ? `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}` : 'not a regular file'}: it must be a regular file that only its owner can read (chmod 0600)`,
        { path, mode: st.mode & 0o777 },
      );
    }
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
};

/**
 * The key in `path` (`wg genkey` output, surrounding whitespace ignored) and its public key. Errors name
 * the file and the rule, never anything about the content.
 */
export async function readCableKey(path: string, read: ReadSecretFile = readOwnerOnly): Promise<CableKey> {
  let text: string;
  try {
    text = (await read(path)).trim();
  } catch (e) {
    if (AgentError.isInstance(e)) throw e;
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
