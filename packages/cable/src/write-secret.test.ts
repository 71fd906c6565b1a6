import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSecretFile } from './write-secret';

describe('writeSecretFile', () => {
  let dir = '';
  let umask = 0;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-cable-'));
    umask = process.umask(0); // the widest umask: the mode must come from the helper, not the umask
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a new file with mode 0600', () => {
    const p = join(dir, 'wg0.conf');
    writeSecretFile(p, '[Interface]\nPrivateKey = x\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readFileSync(p, 'utf8')).toBe('[Interface]\nPrivateKey = x\n');
  });

  it('fixes the mode of an existing world-readable file and replaces its content', () => {
    const p = join(dir, 'ipsec.secrets');
    writeFileSync(p, 'old content that is longer than the new one\n');
    chmodSync(p, 0o644);
    writeSecretFile(p, 'new\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readFileSync(p, 'utf8')).toBe('new\n');
  });

  it('refuses to write through a symlink', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'x');
    const link = join(dir, 'link');
    symlinkSync(target, link);
    expect(() => writeSecretFile(link, 'secret')).toThrow(/ELOOP/);
    expect(readFileSync(target, 'utf8')).toBe('x');
  });
});
