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

describe('route-planner examples', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    const readme = readFileSync(`${root}packages/route-planner/README.md`, 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(`${root}examples/route-planner-quickstart.ts`, 'utf8'));
    expect(readme.indexOf('```ts')).toBeLessThan(readme.indexOf('## '));
  });

  it('the quickstart prints ip commands, a one-route delta for a joining node, and UNKNOWN_NODE', () => {
    const out = run('examples/route-planner-quickstart.ts');
    expect(out).toContain(
      'link add vx-bridge address 0e:fe:f0:00:00:01 mtu 1450 type vxlan id 4097 dstport 4789 local 198.18.0.1 nolearning',
    );
    expect(out).toContain('route add 10.20.1.0/24 via 240.0.0.2 dev vx-bridge onlink table 150');
    expect(out).toContain('fdb append 00:00:00:00:00:00 dev vx-bridge dst 198.18.0.2');
    expect(out).toContain("dst: '10.20.2.0/24'");
    expect(out.trim().endsWith('UNKNOWN_NODE')).toBe(true);
  });

  it('route-planning plans a two-NIC pod and a three-node P2P mesh as ip commands and tables', () => {
    const out = run('examples/route-planning/main.ts');
    expect(out).toContain('type veth peer name veth0');
    expect(out).toContain('rule add from 172.101.0.5/32 lookup 101 pref 1000');
    expect(out).toContain('route add default via 172.101.0.1 dev net1 metric 100 table 101');
    expect(out).toContain(
      '-A PREROUTING -i veth0 -m conntrack --ctstate NEW -j MARK --set-xmark 0x1/0xffffffff',
    );
    expect(out).toContain('link set dev eth0 address 0a:1b:ac:64:00:d2');
    expect(out).toMatch(/east-1 +underlay 198\.18\.0\.1 +vtep 240\.0\.0\.1 +mac 0e:fe:f0:00:00:01/);
    expect(out).toMatch(/150 +10\.20\.1\.0\/24 +240\.0\.0\.2 +vx-bridge/);
    expect(out).toMatch(/routes of west-1\n.*\n +150 +10\.10\.1\.0\/24 +240\.0\.0\.1 +vx-bridge/);
    expect(out).toContain('rule 1000: fwmark 0x1 lookup 100');
  });
});
