// File I/O for rendered secrets: kept apart from the pure planner and renderers.
import { closeSync, constants, fchmodSync, openSync, writeSync } from 'node:fs';

/**
 * Writes text that holds a secret (a `wg setconf` file, an ipsec `.secrets` file) readable by its
 * owner only. A new file is created with mode 0600; an existing file (not a symlink) has its mode set
 * to 0600 and is truncated before anything is written into it.
 */
export function writeSecretFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  }
  try {
    fchmodSync(fd, 0o600); // fixes an existing file's mode before the secret lands in it
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
