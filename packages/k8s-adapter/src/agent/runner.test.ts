import { describe, expect, it } from 'vitest';
import { commandLine, createExecRunner } from './runner';

describe('command runners', () => {
  it('commandLine runs on the host, or through ip netns exec', () => {
    expect(commandLine('ip', ['-json', 'link', 'show'])).toEqual(['ip', ['-json', 'link', 'show']]);
    expect(commandLine('nft', ['-f', '-'], 'ns1')).toEqual([
      'ip',
      ['netns', 'exec', 'ns1', 'nft', '-f', '-'],
    ]);
  });

  it('the exec runner passes stdin, returns stdout, stderr and the exit code, and never uses a shell', async () => {
    const run = createExecRunner();
    expect(await run('cat', [], { input: 'a; echo injected\n' })).toEqual({
      code: 0,
      stdout: 'a; echo injected\n',
      stderr: '',
    });
    const r = await run('ls', ['/nonexistent-isthmus-path']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nonexistent-isthmus-path');
    expect((await run('echo', ['$(id)'])).stdout).toBe('$(id)\n');
  });

  it('rejects when the program does not exist', async () => {
    await expect(createExecRunner()('isthmus-no-such-program', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
