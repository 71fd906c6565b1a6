import { describe, expect, it } from 'vitest';
import { expectReadmeStartsWith, runExample } from './support';

describe('route-planner examples', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    expectReadmeStartsWith('route-planner', 'examples/route-planner-quickstart.ts');
  });

  it('the quickstart prints ip commands, a one-route delta for a joining node, and UNKNOWN_NODE', () => {
    const out = runExample('examples/route-planner-quickstart.ts');
    expect(out).toContain(
      'link add vx-bridge address 0e:fe:f0:00:00:01 mtu 1450 type vxlan id 4097 dstport 4789 local 198.18.0.1 nolearning',
    );
    expect(out).toContain('route add 10.20.1.0/24 via 240.0.0.2 dev vx-bridge onlink table 150');
    expect(out).toContain('fdb append 00:00:00:00:00:00 dev vx-bridge dst 198.18.0.2');
    expect(out).toContain("dst: '10.20.2.0/24'");
    expect(out.trim().endsWith('UNKNOWN_NODE')).toBe(true);
  });

  it('route-planning plans a two-NIC pod and a three-node P2P mesh as ip commands and tables', () => {
    const out = runExample('examples/route-planning/main.ts');
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
