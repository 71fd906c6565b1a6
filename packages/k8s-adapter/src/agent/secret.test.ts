import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWireGuardKeyPair } from '@isthmus/cable';
import { describe, expect, it } from 'vitest';
import { readCableKey } from './secret';

describe('readCableKey', () => {
  const pair = generateWireGuardKeyPair();

  it('reads the key (whitespace ignored) into a Secret with its public key', async () => {
    const k = await readCableKey('/etc/isthmus/wg.key', async () => `  ${pair.privateKey.reveal()}\n`);
    expect(k.publicKey).toBe(pair.publicKey);
    expect(k.privateKey.reveal()).toBe(pair.privateKey.reveal());
    expect(JSON.stringify(k)).not.toContain(pair.privateKey.reveal());
  });

  it('a missing file is SECRET_UNREADABLE naming the file', async () => {
    await expect(readCableKey('/nonexistent/isthmus.key')).rejects.toMatchObject({
      code: 'SECRET_UNREADABLE',
      message: expect.stringContaining('/nonexistent/isthmus.key'),
    });
  });

  it('a file without a key is INVALID_SECRET, and the message says nothing of the content', async () => {
    const almost = `${pair.privateKey.reveal().slice(0, 43)}x`;
    for (const text of ['', 'hello', almost]) {
      const err = await readCableKey('/k', async () => text).catch((e) => e);
      expect(err.code).toBe('INVALID_SECRET');
      expect(err.message).not.toContain(almost.slice(0, 10));
      expect(err.message).not.toMatch(/\d+ characters/);
    }
  });

  it('the key file must be owner-only: 0600 and 0400 are read, group or world bits are SECRET_FILE_MODE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-key-'));
    try {
      const file = join(dir, 'wg.key');
      writeFileSync(file, `${pair.privateKey.reveal()}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      expect((await readCableKey(file)).publicKey).toBe(pair.publicKey);
      chmodSync(file, 0o400);
      expect((await readCableKey(file)).publicKey).toBe(pair.publicKey);
      for (const mode of [0o644, 0o640, 0o604, 0o660]) {
        chmodSync(file, mode);
        const err = await readCableKey(file).catch((e) => e);
        expect(err.code).toBe('SECRET_FILE_MODE');
        expect(err.message).toContain(file);
        expect(err.message).toContain(mode.toString(8).padStart(4, '0'));
        expect(err.message).not.toContain(pair.privateKey.reveal());
      }
      const err = await readCableKey(dir).catch((e) => e);
      expect(err.code).toBe('SECRET_FILE_MODE');
      expect(err.message).toContain('not a regular file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
