import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectReadmeStartsWith, runExample } from './support';

describe('@isthmus/cable examples', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    expectReadmeStartsWith('cable', 'examples/cable-quickstart.ts');
  });

  it('the quickstart prints the MTU, MSS, endpoint choice, routes, a redacted key, ESP figures and SUBNET_OVERLAP', () => {
    const out = runExample('examples/cable-quickstart.ts');
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
