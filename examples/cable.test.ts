import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(file: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('@isthmus/cable examples', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    const readme = readFileSync(`${root}packages/cable/README.md`, 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(`${root}examples/cable-quickstart.ts`, 'utf8'));
    expect(readme.indexOf('```ts')).toBeLessThan(readme.indexOf('## '));
  });

  it('the quickstart prints the MTU, MSS, endpoint choice, routes, a redacted key, ESP figures and SUBNET_OVERLAP', () => {
    const out = run('examples/cable-quickstart.ts');
    expect(
      out,
    ).toBe(`1440 1400 public IP with NAT traversal: the gateways are on different networks (198.18.0.0/24 and 198.19.0.0/24)
link set dev submariner mtu 1440 up
route replace 10.20.0.0/16 dev submariner src 10.10.0.1
route replace 10.120.0.0/16 dev submariner src 10.10.0.1
{"privateKey":"[redacted]"} [redacted]
1438 1398
SUBNET_OVERLAP
`);
  });
});

const dist = fileURLToPath(new URL('../packages/cable/dist/', import.meta.url));
const built = existsSync(`${dist}index.js`) && existsSync(`${dist}index.cjs`);

// pnpm test builds before it runs the tests; alone, these run only after `pnpm build`.
describe.skipIf(!built)('the built @isthmus/cable package (needs pnpm build)', () => {
  it('works from CommonJS and ESM; errors carry the cross-copy marker; secrets stay redacted', () => {
    const code = `import * as m from ${JSON.stringify(`${dist}index.js`)};
      const cjs = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(`${dist}index.cjs`)});
      const k = cjs.generateWireGuardKeyPair();
      console.log(cjs.tunnelMtu('wireguard'), JSON.stringify(k.privateKey), m.wireGuardPublicKey(k.privateKey) === k.publicKey);
      try { m.tunnelMtu('vxlan', { linkMtu: 10 }); } catch (e) { console.log(e.code, cjs.CableError.isInstance(e)); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1440 "[redacted]" true\nINVALID_MTU true');
  });
});
