import { describe, expect, it } from 'vitest';
import { expectReadmeStartsWith, runExample } from './support';

describe('examples', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    expectReadmeStartsWith('ipam', 'examples/ipam-quickstart.ts');
  });

  it('the quickstart prints the lowest free address, the block size and ADDRESS_IN_USE', () => {
    const out = runExample('examples/ipam-quickstart.ts');
    expect(out).toContain('172.110.1.2 8 { total: 199n, allocated: 10, free: 189n, owners: 3 }');
    expect(out).toContain('172.110.1.11-172.110.1.99,172.110.1.101-172.110.1.200');
    expect(out.trim().endsWith('ADDRESS_IN_USE')).toBe(true);
  });

  it('the demo prints allocations, free ranges, an identical restore and a typed exhaustion error', () => {
    const out = runExample('examples/ipam-demo.ts');
    expect(out).toContain('egress/namespace/shop       172.110.1.11 .. 172.110.1.18 (8)');
    expect(out).toContain('free ranges: 172.110.1.5-172.110.1.9,172.110.1.19,172.110.1.21-172.110.1.29');
    expect(out).toMatch(/next address 172\.110\.1\.3, original gives 172\.110\.1\.3 -> same/);
    expect(out).toContain('POOL_EXHAUSTED: pool "tiny" is exhausted');
  });

  it('the demo --json output parses and agrees with the table', () => {
    const j = JSON.parse(runExample('examples/ipam-demo.ts', '--json'));
    expect(j.restoreAgrees).toBe(true);
    expect(j.pools[0].stats).toEqual({ total: '37', allocated: 12, free: '25', owners: 5 });
    expect(j.overlaps).toEqual([{ a: 'default-v4', b: 'underlay-a', overlap: '172.110.1.35-172.110.1.40' }]);
  });
});
