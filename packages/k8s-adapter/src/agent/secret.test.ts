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
});
