// Helpers for the example tests: run an example as a user would, and keep READMEs honest.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs an example with tsx from the repository root; expects exit 0 and no stderr; returns stdout. */
export function runExample(file: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { cwd: root, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The package README's first ```ts block is the example file, verbatim, before any `## ` heading. */
export function expectReadmeStartsWith(pkg: string, example: string): void {
  const readme = readFileSync(`${root}packages/${pkg}/README.md`, 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBe(readFileSync(`${root}${example}`, 'utf8'));
  expect(readme.indexOf('```ts')).toBeLessThan(readme.indexOf('## '));
}
