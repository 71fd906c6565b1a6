import { describe, expect, it } from 'vitest';
import { expectReadmeStartsWith, runExample } from './support';

describe('globalnet-ipam example', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    expectReadmeStartsWith('globalnet-ipam', 'examples/globalnet-ipam-quickstart.ts');
  });

  it('prints the overlap, both global CIDRs, the service global IP and the NAT rules', () => {
    const out = runExample('examples/globalnet-ipam-quickstart.ts');
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
