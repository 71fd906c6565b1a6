import { describe, expect, it } from 'vitest';
import { createGlobalnet, type GlobalnetSnapshot, restoreGlobalnet, updateGlobalnet } from './globalnet';
import { frozen, thrown } from './test-support';

describe('createGlobalnet', () => {
  it('hands out ingress IPs per service, headless pod and selector-less endpoint, idempotently', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/16' });
    expect(gn.allocateIngress({ kind: 'service', namespace: 'shop', name: 'web' })).toBe('242.0.0.1');
    expect(gn.allocateIngress({ kind: 'pod', namespace: 'shop', name: 'db-0' })).toBe('242.0.0.2');
    expect(
      gn.allocateIngress({ kind: 'endpoint', namespace: 'shop', service: 'ext', address: '192.0.2.10' }),
    ).toBe('242.0.0.3');
    expect(gn.allocateIngress({ kind: 'service', namespace: 'shop', name: 'web' })).toBe('242.0.0.1');
    expect(gn.ownerOf('242.0.0.3')).toBe('ep/shop/ext/192.0.2.10');
    expect(gn.ingress().map((i) => [i.owner, i.globalIp])).toEqual([
      ['svc/shop/web', '242.0.0.1'],
      ['pod/shop/db-0', '242.0.0.2'],
      ['ep/shop/ext/192.0.2.10', '242.0.0.3'],
    ]);
    expect(gn.releaseIngress({ kind: 'pod', namespace: 'shop', name: 'db-0' })).toEqual(['242.0.0.2']);
    expect(gn.allocateHealthCheck('gw-1')).toBe('242.0.0.2');
    expect(gn.healthChecks()).toEqual([{ owner: 'hc/gw-1', gateway: 'gw-1', globalIp: '242.0.0.2' }]);
  });

  it('allocates egress blocks (cluster default 8, scopes default 1) and re-allocates when n changes', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/24' });
    expect(gn.allocateEgress({ kind: 'cluster' })).toHaveLength(8);
    expect(gn.allocateEgress({ kind: 'namespace', namespace: 'shop' })).toEqual(['242.0.0.9']);
    const sel = { matchLabels: { app: 'db' } };
    expect(gn.allocateEgress({ kind: 'pods', namespace: 'shop', name: 'db', selector: sel }, 3)).toEqual([
      '242.0.0.10',
      '242.0.0.11',
      '242.0.0.12',
    ]);
    gn.allocateIngress({ kind: 'service', namespace: 'a', name: 'b' }); // 242.0.0.13
    expect(gn.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 4)).toEqual([
      '242.0.0.14',
      '242.0.0.15',
      '242.0.0.16',
      '242.0.0.17',
    ]);
    expect(gn.ownerOf('242.0.0.9')).toBeUndefined();
    expect(gn.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 4)).toHaveLength(4);
    const sel2 = { matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['db'] }] };
    gn.allocateEgress({ kind: 'pods', namespace: 'shop', name: 'db', selector: sel2 }, 3);
    expect(gn.egress().find((e) => e.owner === 'egress/pods/shop/db')?.scope).toEqual({
      kind: 'pods',
      namespace: 'shop',
      name: 'db',
      selector: sel2,
    });
  });

  it('bad input throws typed errors naming the value and changes nothing', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/28' });
    gn.allocateEgress({ kind: 'cluster' }, 4);
    const before = JSON.stringify(gn.snapshot());
    thrown(() => gn.allocateEgress({ kind: 'cluster' }, 21), 'INVALID_EGRESS_SIZE');
    thrown(() => gn.allocateEgress({ kind: 'namespace', namespace: 'x' }, 0), 'INVALID_EGRESS_SIZE');
    const e = thrown(
      () =>
        gn.allocateEgress({
          kind: 'pods',
          namespace: 'x',
          name: 'y',
          selector: { matchExpressions: [{ key: 'a', operator: 'In' }] },
        }),
      'INVALID_SELECTOR',
    );
    expect(e.message).toContain('In needs at least one value');
    thrown(() => gn.allocateEgress({ kind: 'cluster' }, 20), 'GLOBALNET_EXHAUSTED');
    thrown(() => gn.allocateIngress({ kind: 'service', namespace: 'a/b', name: 'c' }), 'INVALID_ARGUMENT');
    thrown(
      () => gn.allocateIngress({ kind: 'endpoint', namespace: 'a', service: 'c', address: '10.0.0.01' }),
      'INVALID_ADDRESS',
    );
    thrown(() => gn.allocateIngress({ kind: 'nope' } as never), 'INVALID_ARGUMENT');
    // An IPv4 global IP cannot translate an IPv6 endpoint (the NAT plan would reject it later).
    thrown(
      () => gn.allocateIngress({ kind: 'endpoint', namespace: 'a', service: 'c', address: 'fd00::1' }),
      'FAMILY_MISMATCH',
    );
    expect(JSON.stringify(gn.snapshot())).toBe(before);
    for (let i = 0; i < 10; i++) gn.allocateIngress({ kind: 'service', namespace: 'n', name: `s${i}` });
    thrown(
      () => gn.allocateIngress({ kind: 'service', namespace: 'n', name: 'last' }),
      'GLOBALNET_EXHAUSTED',
    );
    thrown(() => createGlobalnet({ globalCidr: '242.0.0.0/33' }), 'INVALID_CIDR');
    thrown(() => createGlobalnet({ globalCidr: 'fd00::/48' }), 'INVALID_CIDR');
    thrown(
      () => createGlobalnet({ globalCidr: '242.0.0.0/16', clusterEgressSize: 30 }),
      'INVALID_EGRESS_SIZE',
    );
  });

  it('an egress size that is not an integer is INVALID_EGRESS_SIZE naming it; only an omitted one is the default', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/24' });
    const before = JSON.stringify(gn.snapshot());
    for (const [n, shown] of [
      [null, 'null'],
      ['8', '"8"'],
      [Number.NaN, 'NaN'],
      [2.5, '2.5'],
    ] as const) {
      const e = thrown(() => gn.allocateEgress({ kind: 'cluster' }, n as never), 'INVALID_EGRESS_SIZE');
      expect(e.message).toContain(`egress/cluster ${shown} must be`);
      expect(e.details.value).toBe(n);
      thrown(
        () => gn.allocateEgress({ kind: 'namespace', namespace: 'a' }, n as never),
        'INVALID_EGRESS_SIZE',
      );
    }
    expect(JSON.stringify(gn.snapshot())).toBe(before);
    expect(gn.allocateEgress({ kind: 'cluster' }, undefined)).toHaveLength(8);
    expect(gn.allocateEgress({ kind: 'namespace', namespace: 'a' })).toHaveLength(1);
  });

  it('stats() counts exactly, as bigint, even for an IPv6 /64', () => {
    const v6 = createGlobalnet({ globalCidr: 'fd00:242::/64' });
    v6.allocateEgress({ kind: 'cluster' });
    v6.allocateIngress({ kind: 'service', namespace: 'a', name: 'b' });
    // 2^64 addresses less the subnet-router anycast address; a number would round both to 2^64.
    expect(v6.stats()).toEqual({ total: 2n ** 64n - 1n, allocated: 9, free: 2n ** 64n - 10n, owners: 2 });
    const v4 = createGlobalnet({ globalCidr: '242.0.0.0/16' });
    v4.allocateEgress({ kind: 'cluster' });
    expect(v4.stats()).toEqual({ total: 65_534n, allocated: 8, free: 65_526n, owners: 1 });
  });

  it('works for IPv6', () => {
    const gn = createGlobalnet({ globalCidr: 'fd00:242::/64' });
    expect(gn.allocateEgress({ kind: 'cluster' })[0]).toBe('fd00:242::1');
    expect(gn.allocateIngress({ kind: 'service', namespace: 'a', name: 'b' })).toBe('fd00:242::9');
    const r = restoreGlobalnet(gn.spec, frozen(gn.snapshot()));
    expect(r.snapshot()).toEqual(gn.snapshot());
  });

  it('a smaller global CIDR that leaves out allocated IPs is GLOBAL_CIDR_TOO_SMALL; a bigger one keeps everything', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/24' });
    gn.allocateEgress({ kind: 'cluster' }, 8);
    for (let i = 0; i < 200; i++) gn.allocateIngress({ kind: 'service', namespace: 'n', name: `s${i}` });
    const e = thrown(() => updateGlobalnet(gn, { globalCidr: '242.0.0.0/25' }), 'GLOBAL_CIDR_TOO_SMALL');
    expect(e.message).toContain('242.0.0.0/25');
    expect((e.details.addresses as unknown[]).length).toBe(82);
    const bigger = updateGlobalnet(gn, { globalCidr: '242.0.0.0/23' });
    expect(bigger.snapshot().allocations).toEqual(gn.snapshot().allocations);
    expect(gn.globalCidr).toBe('242.0.0.0/24');
    thrown(() => updateGlobalnet(gn, { globalCidr: 'fd00::/64' }), 'FAMILY_MISMATCH');
  });

  it('updateGlobalnet refuses anything that createGlobalnet or restoreGlobalnet did not make', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/24' });
    const spec = { globalCidr: '242.0.0.0/23' };
    for (const fake of [null, undefined, 'gn', { ...gn }, Object.create(gn) as object]) {
      const e = thrown(() => updateGlobalnet(fake as never, spec), 'INVALID_ARGUMENT');
      expect(e.message).toContain(
        'updateGlobalnet needs a Globalnet from createGlobalnet or restoreGlobalnet',
      );
      expect(e.details.value).toBe(fake);
    }
    expect(thrown(() => updateGlobalnet(null as never, spec)).message).toMatch(/got null$/);
    const restored = restoreGlobalnet(gn.spec, gn.snapshot());
    expect(updateGlobalnet(updateGlobalnet(restored, spec), gn.spec).globalCidr).toBe('242.0.0.0/24');
  });
});

describe('restoreGlobalnet', () => {
  it('reports every conflict at once', () => {
    const snap: GlobalnetSnapshot = {
      version: 1,
      globalCidr: '242.0.0.0/24',
      allocations: [
        ['svc/a/b', '242.0.0.1'],
        ['svc/a/c', '242.0.0.1'],
        ['svc/a/d', '242.0.0.2-242.0.0.3'],
        ['egress/cluster', '242.0.0.10-242.0.0.40'],
        ['egress/pods/a/x', '242.0.0.50'],
        ['egress/pods/a/y', '242.0.0.51'],
        ['weird', '242.0.0.60'],
        ['pod/a/p', '242.0.1.1'],
      ],
      selectors: [
        ['egress/pods/a/y', { matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }] }],
        ['egress/pods/a/z', {}],
      ],
    };
    const e = thrown(() => restoreGlobalnet({ globalCidr: '242.0.0.0/24' }, snap), 'SNAPSHOT_CONFLICT');
    const reasons = (e.details.conflicts as Array<{ reason: string; owner?: string }>)
      .map((c) => `${c.reason}:${c.owner}`)
      .sort();
    expect(reasons).toEqual([
      'duplicate-address:svc/a/c',
      'invalid-selector:egress/pods/a/y',
      'missing-selector:egress/pods/a/x',
      'orphan-selector:egress/pods/a/z',
      'out-of-range:pod/a/p',
      'unknown-owner:weird',
      'wrong-size:egress/cluster',
      'wrong-size:svc/a/d',
    ]);
  });

  it('reports a selector recorded twice for one scope instead of keeping the last', () => {
    const snap: GlobalnetSnapshot = {
      version: 1,
      globalCidr: '242.0.0.0/24',
      allocations: [['egress/pods/a/x', '242.0.0.1']],
      selectors: [
        ['egress/pods/a/x', { matchLabels: { app: 'x' } }],
        ['egress/pods/a/x', { matchLabels: { app: 'y' } }],
      ],
    };
    const e = thrown(() => restoreGlobalnet({ globalCidr: '242.0.0.0/24' }, snap), 'SNAPSHOT_CONFLICT');
    expect(e.details.conflicts).toEqual([
      expect.objectContaining({ reason: 'duplicate-owner', owner: 'egress/pods/a/x' }),
    ]);
  });

  it('reports an endpoint owner whose address the original could not have made', () => {
    const snap: GlobalnetSnapshot = {
      version: 1,
      globalCidr: '242.0.0.0/24',
      allocations: [
        ['ep/a/s/fd00::1', '242.0.0.1'],
        ['ep/a/s/10.0.0.01', '242.0.0.2'],
        ['ep/a/s/10.0.0.1', '242.0.0.3'],
      ],
      selectors: [],
    };
    const e = thrown(() => restoreGlobalnet({ globalCidr: '242.0.0.0/24' }, snap), 'SNAPSHOT_CONFLICT');
    expect(
      (e.details.conflicts as Array<{ reason: string; owner: string }>).map((c) => `${c.reason}:${c.owner}`),
    ).toEqual(['invalid-entry:ep/a/s/fd00::1', 'invalid-entry:ep/a/s/10.0.0.01']);
  });

  it('a snapshot of a smaller global CIDR restores into the grown one the spec names, and goes on from there', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/24' });
    gn.allocateEgress({ kind: 'cluster' });
    gn.allocateIngress({ kind: 'service', namespace: 'a', name: 'b' });
    const r = restoreGlobalnet({ globalCidr: '242.0.0.0/16' }, frozen(gn.snapshot()));
    expect(r.globalCidr).toBe('242.0.0.0/16');
    expect(r.snapshot()).toEqual({ ...gn.snapshot(), globalCidr: '242.0.0.0/16' });
    for (let i = 0; i < 300; i++) r.allocateIngress({ kind: 'pod', namespace: 'p', name: `p${i}` });
    expect(r.ownerOf('242.0.1.53')).toBe('pod/p/p299'); // past the old /24
    // A smaller CIDR of the same family that still holds every allocation is allowed too (as updateGlobalnet).
    expect(restoreGlobalnet({ globalCidr: '242.0.0.0/25' }, gn.snapshot()).stats().allocated).toBe(9);
  });

  it('a snapshot of another global CIDR whose allocations the spec leaves out reports both CIDRs in the one SNAPSHOT_CONFLICT', () => {
    const gn = createGlobalnet({ globalCidr: '242.1.0.0/16' });
    gn.allocateEgress({ kind: 'cluster' });
    gn.allocateIngress({ kind: 'service', namespace: 'a', name: 'b' });
    const e = thrown(
      () => restoreGlobalnet({ globalCidr: '242.0.0.0/16' }, gn.snapshot()),
      'SNAPSHOT_CONFLICT',
    );
    expect(e.details.conflicts).toEqual([
      {
        reason: 'global-cidr-mismatch',
        globalCidr: '242.1.0.0/16',
        message:
          "snapshot globalCidr 242.1.0.0/16 differs from the spec's globalCidr 242.0.0.0/16, which leaves out 2 allocation(s)",
      },
      expect.objectContaining({ reason: 'out-of-range', owner: 'egress/cluster' }),
      expect.objectContaining({ reason: 'out-of-range', owner: 'svc/a/b' }),
    ]);
    expect(e.message).toContain('snapshot globalCidr 242.1.0.0/16 differs');
    // A change of family is a conflict even with nothing allocated; so is a recorded CIDR that does not parse.
    const empty = createGlobalnet({ globalCidr: 'fd00:242::/64' }).snapshot();
    const fam = thrown(() => restoreGlobalnet({ globalCidr: '242.0.0.0/16' }, empty), 'SNAPSHOT_CONFLICT');
    expect(fam.details.conflicts).toEqual([
      expect.objectContaining({ reason: 'global-cidr-mismatch', globalCidr: 'fd00:242::/64' }),
    ]);
    const bad = thrown(
      () =>
        restoreGlobalnet({ globalCidr: '242.0.0.0/16' }, { ...gn.snapshot(), globalCidr: '242.0.0.1/16' }),
      'SNAPSHOT_CONFLICT',
    );
    expect((bad.details.conflicts as Array<{ reason: string; message: string }>)[0]).toEqual({
      reason: 'invalid-entry',
      message: expect.stringContaining('snapshot globalCidr "242.0.0.1/16" is not a valid CIDR'),
    });
  });

  it('a restored allocator continues exactly like the original', () => {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/24' });
    gn.allocateEgress({ kind: 'cluster' });
    gn.allocateIngress({ kind: 'service', namespace: 'a', name: 'b' });
    gn.allocateEgress({ kind: 'pods', namespace: 'a', name: 'x', selector: { matchLabels: { a: 'b' } } }, 2);
    gn.releaseIngress({ kind: 'service', namespace: 'a', name: 'b' });
    const r = restoreGlobalnet(gn.spec, JSON.parse(JSON.stringify(gn.snapshot())));
    expect(r.egress()).toEqual(gn.egress());
    expect(r.allocateIngress({ kind: 'pod', namespace: 'a', name: 'p' })).toBe(
      gn.allocateIngress({ kind: 'pod', namespace: 'a', name: 'p' }),
    );
  });
});
