import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(file: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('globalnet-ipam example', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    const readme = readFileSync(`${root}packages/globalnet-ipam/README.md`, 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(`${root}examples/globalnet-ipam-quickstart.ts`, 'utf8'));
    expect(readme.indexOf('```ts')).toBeLessThan(readme.indexOf('## '));
  });

  it('prints the overlap, both global CIDRs, the service global IP and the NAT rules', () => {
    const out = run('examples/globalnet-ipam-quickstart.ts');
    expect(out).toContain("[ 'east overlaps west on 10.96.0.0/12, 10.244.0.0/16' ]");
    expect(out).toContain("{ east: [ '242.0.0.0/16' ], west: [ '242.1.0.0/16' ] }");
    expect(out).toContain('east reaches shop/web at 242.1.0.9');
    expect(out).toContain('table ip isthmus-globalnet {');
    expect(out).toContain('\t\t\t242.1.0.9 : 10.96.0.10\n');
    expect(out).toContain('\t\tdnat to ip daddr map @ingress\n');
    expect(out).toContain('\t\tip saddr 10.244.0.0/16 snat to 242.1.0.1-242.1.0.8\n');
    expect(out).toContain('\t\t\t242.0.0.0/16\n');
  });
});
