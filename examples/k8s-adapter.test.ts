import { describe, expect, it } from 'vitest';
import { expectReadmeStartsWith, runExample } from './support';

describe('k8s-adapter examples', () => {
  it('the package README starts with the quickstart example, verbatim', () => {
    expectReadmeStartsWith('k8s-adapter', 'examples/k8s-adapter-quickstart.ts');
  });

  it('the quickstart lists the CRDs and gives the exported service a global IP', () => {
    const out = runExample('examples/k8s-adapter-quickstart.ts');
    for (const crd of [
      'ippools.isthmus.io',
      'globalegressips.isthmus.io',
      'clusterglobalegressips.isthmus.io',
      'clustersetmembers.isthmus.io',
      'nodeplans.isthmus.io',
    ]) {
      expect(out).toContain(crd);
    }
    expect(out).toMatch(/\d{2,} lines of CRD YAML/);
    expect(out).toContain("'shop/web 242.0.0.1'");
  });
});
