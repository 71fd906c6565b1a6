import { describe, expect, it } from 'vitest';
import { Addr, parseAddr } from './addr';
import { IpamError } from './errors';
import {
  checkPoolOverlap,
  createPool,
  MAX_BLOCK,
  type Pool,
  type PoolSnapshot,
  restorePool,
  type SnapshotConflict,
  updatePool,
} from './pool';
import type { PoolSpec } from './spec';
import { thrown } from './test-support';

// ---------------------------------------------------------------------------------------------
// Helpers

const texts = (addrs: readonly Addr[]): string[] => addrs.map(String);

/** Everything observable about a pool's state, to compare before and after a call. */
function state(pool: Pool) {
  return {
    snapshot: pool.snapshot(),
    stats: pool.stats(),
    free: pool.freeRanges().toString(),
  };
}

/** The IPv4 address `base + i` as text. */
function v4(base: string, i: number): string {
  return Addr.fromV4Number(parseAddr(base).toV4Number() + i).toString();
}

// ---------------------------------------------------------------------------------------------

describe('bad inputs are IpamErrors that name the offending value and change nothing', () => {
  const spec: PoolSpec = { name: 'net-a', subnet: '10.0.0.0/24', gateway: '10.0.0.1' };

  it.each<[string, PoolSpec, string]>([
    ['a subnet that is not a CIDR', { name: 'p', subnet: 'banana' }, '"banana"'],
    ['a subnet with host bits set', { name: 'p', subnet: '10.0.0.1/24' }, '"10.0.0.1/24"'],
    ['a missing subnet', { name: 'p' } as unknown as PoolSpec, 'subnet undefined'],
    [
      'an ips address outside the subnet',
      { name: 'p', subnet: '10.0.0.0/24', ips: ['10.0.1.5'] },
      '"10.0.1.5"',
    ],
    [
      'an ips range reaching outside the subnet',
      { name: 'p', subnet: '10.0.0.0/24', ips: ['10.0.0.250-10.0.1.2'] },
      '"10.0.0.250-10.0.1.2"',
    ],
    [
      'an ips address of the other family',
      { name: 'p', subnet: '10.0.0.0/24', ips: ['fd00::1'] },
      '"fd00::1"',
    ],
    [
      'a reversed ips range',
      { name: 'p', subnet: '10.0.0.0/24', ips: ['10.0.0.9-10.0.0.1'] },
      '"10.0.0.9-10.0.0.1"',
    ],
    [
      'a malformed ips range',
      { name: 'p', subnet: '10.0.0.0/24', ips: ['10.0.0.1-10.0.0.x'] },
      '"10.0.0.1-10.0.0.x"',
    ],
    [
      'ips that is not an array',
      { name: 'p', subnet: '10.0.0.0/24', ips: '10.0.0.1' as never },
      '"10.0.0.1"',
    ],
    [
      'an excludeIPs CIDR larger than the subnet',
      { name: 'p', subnet: '10.0.0.0/24', excludeIPs: ['10.0.0.0/23'] },
      '"10.0.0.0/23"',
    ],
    [
      'a malformed reservedIPs entry',
      { name: 'p', subnet: '10.0.0.0/24', reservedIPs: ['10.0.0.01'] },
      '"10.0.0.01"',
    ],
    ['a gateway outside the subnet', { name: 'p', subnet: '10.0.0.0/24', gateway: '10.0.1.1' }, '"10.0.1.1"'],
    ['a gateway that is not an address', { name: 'p', subnet: '10.0.0.0/24', gateway: 'gw' }, '"gw"'],
    ['an IPv6 pool shorter than /64', { name: 'p', subnet: 'fd00::/48' }, 'fd00::/48'],
    ['an empty pool name', { name: '', subnet: '10.0.0.0/24' }, '""'],
  ])('createPool rejects %s with INVALID_POOL_SPEC', (_what, bad, named) => {
    const e = thrown(() => createPool(bad));
    expect(e.code).toBe('INVALID_POOL_SPEC');
    expect(e).toBeInstanceOf(IpamError);
    expect(e.message).toContain(named);
  });

  it('a spec error names the pool and the field in message and details', () => {
    const e = thrown(() => createPool({ name: 'net-b', subnet: '10.0.0.0/24', excludeIPs: ['10.0.0.0/23'] }));
    expect(e.message).toContain('"net-b"');
    expect(e.message).toContain('excludeIPs');
    expect(e.details).toMatchObject({ pool: 'net-b', field: 'excludeIPs', value: '10.0.0.0/23' });
  });

  it.each<[string, (p: Pool) => unknown, string, string]>([
    ['a non-string owner', (p) => p.allocate(42 as unknown as string), 'INVALID_ARGUMENT', '42'],
    ['a null owner', (p) => p.allocate(null as unknown as string), 'INVALID_ARGUMENT', 'null'],
    ['an empty owner', (p) => p.allocate(''), 'INVALID_ARGUMENT', '""'],
    ['an empty owner for a block', (p) => p.allocateBlock('', 2), 'INVALID_ARGUMENT', '""'],
    ['an empty owner for reserve', (p) => p.reserve('', '10.0.0.9'), 'INVALID_ARGUMENT', '""'],
    ['an empty owner for release', (p) => p.release(''), 'INVALID_ARGUMENT', '""'],
    ['a block of 0', (p) => p.allocateBlock('b', 0), 'INVALID_ARGUMENT', 'block size 0'],
    ['a block of 1.5', (p) => p.allocateBlock('b', 1.5), 'INVALID_ARGUMENT', 'block size 1.5'],
    ['a block of NaN', (p) => p.allocateBlock('b', Number.NaN), 'INVALID_ARGUMENT', 'block size NaN'],
    ['a block size given as text', (p) => p.allocateBlock('b', '2' as never), 'INVALID_ARGUMENT', '"2"'],
    [
      'a block larger than MAX_BLOCK',
      (p) => p.allocateBlock('b', MAX_BLOCK + 1),
      'INVALID_ARGUMENT',
      String(MAX_BLOCK + 1),
    ],
    [
      'reserve of a malformed address',
      (p) => p.reserve('r', '10.0.0.300'),
      'INVALID_ADDRESS',
      '"10.0.0.300"',
    ],
    [
      'reserve of a list with a malformed address',
      (p) => p.reserve('r', ['10.0.0.9', 'fd00::g']),
      'INVALID_ADDRESS',
      '"fd00::g"',
    ],
    [
      'reserve of an address outside the subnet',
      (p) => p.reserve('r', '10.0.1.9'),
      'OUT_OF_POOL',
      '10.0.1.9',
    ],
    ['reserve of the other family', (p) => p.reserve('r', 'fd00::9'), 'OUT_OF_POOL', 'fd00::9'],
    ['reserve of the gateway', (p) => p.reserve('r', '10.0.0.1'), 'OUT_OF_POOL', '10.0.0.1'],
    ['reserve of the network address', (p) => p.reserve('r', '10.0.0.0'), 'OUT_OF_POOL', '10.0.0.0'],
    ['reserve of a taken address', (p) => p.reserve('r', '10.0.0.2'), 'ADDRESS_IN_USE', '10.0.0.2'],
    ['reserve of nothing', (p) => p.reserve('r', []), 'INVALID_ARGUMENT', '"r"'],
    [
      'reserve listing an address twice',
      (p) => p.reserve('r', ['10.0.0.9', '10.0.0.9']),
      'INVALID_ARGUMENT',
      '10.0.0.9',
    ],
    [
      'a different request from an owner holding one address',
      (p) => p.allocateBlock('a', 2),
      'OWNER_CONFLICT',
      '"a"',
    ],
  ])('a pool rejects %s', (_what, act, code, named) => {
    const pool = createPool(spec);
    pool.allocate('a');
    pool.allocateBlock('blk', 3);
    const before = state(pool);
    const e = thrown(() => act(pool));
    expect(e.code).toBe(code);
    expect(e.message).toContain(named);
    expect(state(pool)).toEqual(before);
  });

  it('ADDRESS_IN_USE names the address and its holder; POOL_EXHAUSTED names the pool and its size', () => {
    const pool = createPool({ name: 'tiny', subnet: '10.0.0.0/30' });
    pool.allocate('a');
    const inUse = thrown(() => pool.reserve('b', '10.0.0.1'));
    expect(inUse.message).toContain('10.0.0.1');
    expect(inUse.message).toContain('"a"');
    expect(inUse.details).toMatchObject({ address: '10.0.0.1', owner: 'a' });
    pool.allocate('b');
    const full = thrown(() => pool.allocate('c'));
    expect(full.code).toBe('POOL_EXHAUSTED');
    expect(full.message).toContain('"tiny"');
    expect(full.message).toContain('all 2 allocatable addresses');
    expect(full.details).toMatchObject({ pool: 'tiny', total: '2' });
  });

  it('restorePool rejects a snapshot of the wrong shape with INVALID_ARGUMENT', () => {
    for (const bad of [
      null,
      'x',
      { version: 2, pool: 'p', subnet: '10.0.0.0/24', allocations: [] },
      { version: 1 },
    ]) {
      expect(thrown(() => restorePool(spec, bad as unknown as PoolSnapshot)).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('default addresses, gateway, reserved addresses and routes', () => {
  it.each<[string, string, bigint, string]>([
    ['an IPv4 /24 has 254 hosts (no network, no broadcast)', '10.0.0.0/24', 254n, '10.0.0.1-10.0.0.254'],
    ['an IPv4 /30 has 2 hosts', '10.0.0.0/30', 2n, '10.0.0.1-10.0.0.2'],
    ['an IPv4 /31 has 2 (point to point)', '10.0.0.0/31', 2n, '10.0.0.0-10.0.0.1'],
    ['an IPv4 /32 has 1', '10.0.0.7/32', 1n, '10.0.0.7'],
    ['an IPv6 /126 has 3 (no subnet-router anycast)', 'fd00::/126', 3n, 'fd00::1-fd00::3'],
    ['an IPv6 /127 has 2 (point to point)', 'fd00::/127', 2n, 'fd00::-fd00::1'],
    ['an IPv6 /128 has 1', 'fd00::5/128', 1n, 'fd00::5'],
    ['an IPv6 /64 has 2^64 - 1', 'fd00::/64', 2n ** 64n - 1n, 'fd00::1-fd00::ffff:ffff:ffff:ffff'],
    ['an IPv4 /7 (sparse) has 2^25 - 2', '10.0.0.0/7', 2n ** 25n - 2n, '10.0.0.1-11.255.255.254'],
  ])('%s', (_what, subnet, total, allocatable) => {
    const pool = createPool({ name: 'p', subnet });
    expect(pool.stats()).toEqual({ total, allocated: 0, free: total, owners: 0 });
    expect(pool.allocatable().toString()).toBe(allocatable);
    expect(pool.freeRanges().toString()).toBe(allocatable);
    expect(pool.allocate('first').toString()).toBe(allocatable.split('-')[0]);
  });

  it('a /30 with a gateway has 1 allocatable address, and the gateway is never handed out', () => {
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/30', gateway: '10.0.0.1' });
    expect(pool.stats().total).toBe(1n);
    expect(pool.allocate('a').toString()).toBe('10.0.0.2');
    expect(thrown(() => pool.allocate('b')).code).toBe('POOL_EXHAUSTED');
    expect(pool.gateway?.toString()).toBe('10.0.0.1');
  });

  it('a gateway inside ips is neither allocated nor counted; excludeIPs and reservedIPs are skipped too', () => {
    const pool = createPool({
      name: 'p',
      subnet: '172.110.0.0/16',
      ips: ['172.110.1.1-172.110.1.8'],
      gateway: '172.110.1.1',
      excludeIPs: ['172.110.1.3'],
      reservedIPs: ['172.110.1.5-172.110.1.6'],
    });
    expect(pool.stats().total).toBe(4n);
    const got = ['a', 'b', 'c', 'd'].map((o) => pool.allocate(o).toString());
    expect(got).toEqual(['172.110.1.2', '172.110.1.4', '172.110.1.7', '172.110.1.8']);
    expect(thrown(() => pool.allocate('e')).code).toBe('POOL_EXHAUSTED');
    for (const a of ['172.110.1.1', '172.110.1.3', '172.110.1.5']) {
      expect(thrown(() => pool.reserve('r', a)).code).toBe('OUT_OF_POOL');
    }
  });

  it('routes and the rest of the spec are carried as data', () => {
    const routes = [{ dst: '10.96.0.0/12', gw: '172.16.0.1' }];
    const spec: PoolSpec = { name: 'p', subnet: '172.16.0.0/24', gateway: '172.16.0.1', routes, vlan: 7 };
    const pool = createPool(spec);
    expect(pool.routes).toEqual(routes);
    expect(Object.isFrozen(pool.routes)).toBe(true);
    expect(pool.spec).toEqual(spec);
    expect(Object.isFrozen(pool.spec) && Object.isFrozen(pool.spec.routes)).toBe(true);
    routes.push({ dst: '10.0.0.0/8', gw: '172.16.0.1' }); // the caller's object stays the caller's
    expect(pool.spec.routes).toHaveLength(1);
    expect(pool.name).toBe('p');
    expect(pool.family).toBe(4);
    expect(pool.subnet.toString()).toBe('172.16.0.0/24');
    expect(createPool({ name: 'q', subnet: 'fd00::/120' }).routes).toEqual([]);
  });
});

describe('allocate, release, ownerOf, addressesOf', () => {
  it('allocate hands out the lowest free address and is idempotent per owner', () => {
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/24' });
    expect(pool.allocate('a').toString()).toBe('10.0.0.1');
    expect(pool.allocate('b').toString()).toBe('10.0.0.2');
    expect(pool.allocate('a').toString()).toBe('10.0.0.1');
    expect(pool.stats()).toEqual({ total: 254n, allocated: 2, free: 252n, owners: 2 });
    expect(texts(pool.release('a'))).toEqual(['10.0.0.1']);
    expect(pool.release('a')).toEqual([]);
    expect(pool.allocate('c').toString()).toBe('10.0.0.1');
    expect(pool.allocate('d').toString()).toBe('10.0.0.3');
  });

  // allocate() has the owner table's lookup written out for keys longer than 8 characters, and calls the
  // table's own find() for the rest (short keys, and every key once the table hashes more of each key).
  // Keys inserted by one path must be found by the other: restorePool and release use find().
  it('finds owners of long and short keys, in the pool that allocated them and in a restored one', () => {
    const spec = { name: 'p', subnet: '10.0.0.0/22' };
    const uids = Array.from(
      { length: 300 },
      (_, i) => `0f8e3c1a-7b6d-4e5f-9a8b-${String(i).padStart(12, '0')}`,
    );
    const owners = [...uids, ...Array.from({ length: 50 }, (_, i) => `s${i}`)];
    const pool = createPool(spec);
    const first = owners.map((o) => pool.allocate(o).toString());
    expect(new Set(first).size).toBe(owners.length);
    expect(owners.map((o) => pool.allocate(o).toString())).toEqual(first);
    expect(first.map((a) => pool.ownerOf(a))).toEqual(owners);
    const restored = restorePool(spec, JSON.parse(JSON.stringify(pool.snapshot())) as PoolSnapshot);
    expect(owners.map((o) => restored.allocate(o).toString())).toEqual(first);
    expect(restored.stats().allocated).toBe(owners.length);
    for (const p of [pool, restored]) {
      for (const i of [7, 299, 303]) {
        expect(texts(p.release(owners[i]!))).toEqual([first[i]]);
        expect(p.release(owners[i]!)).toEqual([]);
        expect(p.allocate(`${owners[i]}-again`).toString()).toBe(first[i]);
      }
    }
  });

  it('keeps owners apart when many keys share their length and last 8 characters', () => {
    // Equal first-level hashes, enough of them for the table to move to a wider hash part way through.
    const owners = Array.from({ length: 1500 }, (_, i) => `k${String(i).padStart(5, '0')}-same-tail`);
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/21' });
    const first = owners.map((o) => pool.allocate(o).toString());
    expect(new Set(first).size).toBe(owners.length);
    expect(owners.map((o) => pool.allocate(o).toString())).toEqual(first);
    expect(texts(pool.release(owners[42]!))).toEqual([first[42]]);
    expect(pool.ownerOf(first[42]!)).toBeUndefined();
    expect(pool.ownerOf(first[43]!)).toBe(owners[43]);
  });

  it('ownerOf, addressesOf and has read the current state', () => {
    const pool = createPool({ name: 'p', subnet: 'fd00::/120' });
    pool.allocate('a');
    pool.allocateBlock('b', 2);
    expect(pool.ownerOf('fd00::1')).toBe('a');
    expect(pool.ownerOf(parseAddr('fd00::3'))).toBe('b');
    expect(pool.ownerOf('fd00::4')).toBeUndefined();
    expect(pool.ownerOf('fd01::1')).toBeUndefined();
    expect(pool.ownerOf('10.0.0.1')).toBeUndefined();
    expect(() => pool.ownerOf('not an address')).toThrow(/invalid IP address "not an address"/);
    try {
      pool.ownerOf('not an address');
    } catch (e) {
      expect(IpamError.isInstance(e) && e.code).toBe('INVALID_ADDRESS');
    }
    expect(texts(pool.addressesOf('b'))).toEqual(['fd00::2', 'fd00::3']);
    expect(pool.addressesOf('nobody')).toEqual([]);
    expect([pool.has('a'), pool.has('nobody')]).toEqual([true, false]);
    expect(pool.allocations().map(([o, as]) => [o, texts(as)])).toEqual([
      ['a', ['fd00::1']],
      ['b', ['fd00::2', 'fd00::3']],
    ]);
  });

  it('an address freed by release has no owner, and reserve, restore and a new owner see it free', () => {
    // release() of a single address leaves the address index's slot stale on purpose (see holderOf).
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/24' });
    pool.allocate('a');
    pool.allocate('b');
    pool.release('a');
    expect(pool.ownerOf('10.0.0.1')).toBeUndefined();
    expect(pool.snapshot().allocations).toEqual([['b', '10.0.0.2']]);
    expect(texts(restorePool(pool.spec, pool.snapshot()).addressesOf('b'))).toEqual(['10.0.0.2']);
    expect(texts(pool.reserve('c', '10.0.0.1'))).toEqual(['10.0.0.1']);
    expect(pool.ownerOf('10.0.0.1')).toBe('c');
    pool.release('c');
    expect(pool.allocate('d').toString()).toBe('10.0.0.1');
    expect(pool.ownerOf('10.0.0.1')).toBe('d');
  });

  it('a sparse IPv6 /64 hands out the lowest addresses and reaches the top of the subnet', () => {
    const pool = createPool({ name: 'big', subnet: 'fd00::/64', gateway: 'fd00::1' });
    expect(pool.allocate('a').toString()).toBe('fd00::2');
    expect(texts(pool.reserve('top', 'fd00::ffff:ffff:ffff:ffff'))).toEqual(['fd00::ffff:ffff:ffff:ffff']);
    expect(texts(pool.allocateBlock('b', 3))).toEqual(['fd00::3', 'fd00::4', 'fd00::5']);
    pool.release('a');
    expect(pool.allocate('c').toString()).toBe('fd00::2');
    expect(pool.stats()).toEqual({ total: 2n ** 64n - 2n, allocated: 5, free: 2n ** 64n - 7n, owners: 3 });
    expect(pool.ownerOf('fd00::ffff:ffff:ffff:ffff')).toBe('top');
  });

  it('a sparse pool keeps memory proportional to what is allocated, not to the subnet', () => {
    const pool = createPool({ name: 'big', subnet: 'fd00::/64' });
    for (let i = 0; i < 1000; i++) pool.allocate(`pod-${i}`);
    expect(pool.stats().allocated).toBe(1000);
    expect(pool.memoryBytes()).toBeLessThan(200_000);
  });
});

describe('allocateBlock', () => {
  it('takes the lowest run of n free addresses (first fit) on a fragmented pool', () => {
    const pool = createPool({ name: 'frag', subnet: '10.0.0.0/27' });
    for (let i = 1; i <= 12; i++) pool.allocate(`s${i}`);
    for (const i of [3, 5, 6, 8, 9, 10]) pool.release(`s${i}`);
    // Free now: .3 | .5-.6 | .8-.10 | .13-.30
    expect(texts(pool.allocateBlock('x', 2))).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(texts(pool.allocateBlock('y', 4))).toEqual(['10.0.0.13', '10.0.0.14', '10.0.0.15', '10.0.0.16']);
    expect(texts(pool.allocateBlock('z', 3))).toEqual(['10.0.0.8', '10.0.0.9', '10.0.0.10']);
    expect(texts(pool.allocateBlock('w', 1))).toEqual(['10.0.0.3']);
    expect(texts(pool.allocateBlock('x', 2))).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(pool.freeRanges().toString()).toBe('10.0.0.17-10.0.0.30');
  });

  it('NO_CONTIGUOUS_BLOCK when enough addresses are free but no run is long enough; POOL_EXHAUSTED when too few', () => {
    const pool = createPool({ name: 'holes', subnet: '10.0.0.0/29' });
    for (let i = 1; i <= 6; i++) pool.allocate(`s${i}`);
    for (const i of [2, 4, 6]) pool.release(`s${i}`);
    const before = state(pool);
    const noRun = thrown(() => pool.allocateBlock('b', 2));
    expect(noRun.code).toBe('NO_CONTIGUOUS_BLOCK');
    expect(noRun.message).toContain('"holes"');
    expect(noRun.message).toContain('3 free');
    expect(noRun.message).toContain('no 2 contiguous');
    const tooFew = thrown(() => pool.allocateBlock('b', 4));
    expect(tooFew.code).toBe('POOL_EXHAUSTED');
    expect(tooFew.message).toContain('"holes"');
    expect(tooFew.message).toContain('only 3 of its 6 allocatable addresses');
    expect(tooFew.message).toContain('4 asked for');
    expect(tooFew.details).toMatchObject({ pool: 'holes', total: '6', n: 4, free: '3' });
    expect(state(pool)).toEqual(before);
    expect(texts(pool.allocateBlock('b', 1))).toEqual(['10.0.0.2']);
  });

  it('runs cross bitmap word boundaries and skip excluded addresses', () => {
    const pool = createPool({
      name: 'p',
      subnet: '10.0.0.0/24',
      ips: ['10.0.0.30-10.0.0.200'],
      excludeIPs: ['10.0.0.40'],
    });
    const block = pool.allocateBlock('b', 40);
    expect(block[0]?.toString()).toBe('10.0.0.41');
    expect(block[39]?.toString()).toBe('10.0.0.80');
    expect(texts(pool.allocateBlock('c', 10))).toEqual(
      Array.from({ length: 10 }, (_, i) => v4('10.0.0.30', i)),
    );
  });

  it('a sparse block can cross a 32-bit boundary of the offset', () => {
    const pool = createPool({ name: 'p', subnet: 'fd00::/64', ips: ['fd00::ffff:fffe-fd00::1:0:1'] });
    expect(texts(pool.allocateBlock('b', 4))).toEqual([
      'fd00::ffff:fffe',
      'fd00::ffff:ffff',
      'fd00::1:0:0',
      'fd00::1:0:1',
    ]);
    expect(pool.snapshot().allocations).toEqual([['b', 'fd00::ffff:fffe-fd00::1:0:1']]);
  });

  it('a block of MAX_BLOCK addresses is allowed and survives a snapshot round trip', () => {
    const spec: PoolSpec = { name: 'wide', subnet: '10.0.0.0/15' };
    const pool = createPool(spec);
    const block = pool.allocateBlock('b', MAX_BLOCK);
    expect(block.length).toBe(MAX_BLOCK);
    expect([block[0]?.toString(), block[MAX_BLOCK - 1]?.toString()]).toEqual(['10.0.0.1', '10.1.0.0']);
    const restored = restorePool(spec, JSON.parse(JSON.stringify(pool.snapshot())));
    expect(restored.snapshot()).toEqual(pool.snapshot());
    expect(restored.allocate('next').toString()).toBe('10.1.0.1');
  });

  it('an owner holds one set of addresses: asking for another kind or size is OWNER_CONFLICT', () => {
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/24' });
    expect(texts(pool.allocateBlock('b', 3))).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(texts(pool.allocateBlock('b', 3))).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const before = state(pool);
    for (const act of [
      () => pool.allocate('b'),
      () => pool.allocateBlock('b', 2),
      () => pool.reserve('b', '10.0.0.9'),
    ]) {
      const e = thrown(act);
      expect(e.code).toBe('OWNER_CONFLICT');
      expect(e.message).toContain('"b"');
      expect(e.message).toContain('10.0.0.1');
    }
    expect(state(pool)).toEqual(before);
    expect(texts(pool.reserve('b', ['10.0.0.3', '10.0.0.1', '10.0.0.2']))).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
    ]);
  });
});

describe('reserve', () => {
  it('takes fixed addresses given as text, Addr or a list, in address order', () => {
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/24' });
    expect(texts(pool.reserve('one', '10.0.0.50'))).toEqual(['10.0.0.50']);
    expect(texts(pool.reserve('addr', parseAddr('10.0.0.60')))).toEqual(['10.0.0.60']);
    expect(texts(pool.reserve('list', ['10.0.0.9', parseAddr('10.0.0.7')]))).toEqual([
      '10.0.0.7',
      '10.0.0.9',
    ]);
    expect(texts(pool.addressesOf('list'))).toEqual(['10.0.0.7', '10.0.0.9']);
    expect(texts(pool.reserve('list', ['10.0.0.9', '10.0.0.7']))).toEqual(['10.0.0.7', '10.0.0.9']);
    expect(pool.allocate('one').toString()).toBe('10.0.0.50');
    for (let i = 1; i <= 6; i++) expect(pool.allocate(`d${i}`).toString()).toBe(`10.0.0.${i}`);
    expect(pool.allocate('d7').toString()).toBe('10.0.0.8');
    expect(pool.allocate('d8').toString()).toBe('10.0.0.10');
  });

  it('is all or nothing: one taken address fails the whole list and takes none', () => {
    const pool = createPool({ name: 'p', subnet: '10.0.0.0/24' });
    pool.allocate('a');
    const before = state(pool);
    const e = thrown(() => pool.reserve('r', ['10.0.0.5', '10.0.0.1', '10.0.0.6']));
    expect(e.code).toBe('ADDRESS_IN_USE');
    expect(e.message).toContain('10.0.0.1');
    expect(state(pool)).toEqual(before);
    expect(pool.ownerOf('10.0.0.5')).toBeUndefined();
    expect(thrown(() => pool.reserve('r', ['10.0.0.5', '10.0.0.255'])).code).toBe('OUT_OF_POOL');
    expect(state(pool)).toEqual(before);
    expect(pool.allocate('b').toString()).toBe('10.0.0.2');
  });
});

describe('snapshot and restorePool', () => {
  const spec: PoolSpec = {
    name: 'snap',
    subnet: '10.1.0.0/24',
    gateway: '10.1.0.1',
    excludeIPs: ['10.1.0.100-10.1.0.110'],
  };

  function busyPool(): Pool {
    const pool = createPool(spec);
    for (let i = 0; i < 10; i++) pool.allocate(`pod-${i}`);
    pool.allocateBlock('blk', 4);
    pool.reserve('scattered', ['10.1.0.90', '10.1.0.80', '10.1.0.99']);
    pool.reserve('fixed', '10.1.0.120');
    for (const i of [1, 4, 5]) pool.release(`pod-${i}`);
    return pool;
  }

  it('snapshot is compact plain JSON: one address, a run "a-b" or a list, in address order', () => {
    expect(busyPool().snapshot()).toEqual({
      version: 1,
      pool: 'snap',
      subnet: '10.1.0.0/24',
      allocations: [
        ['pod-0', '10.1.0.2'],
        ['pod-2', '10.1.0.4'],
        ['pod-3', '10.1.0.5'],
        ['pod-6', '10.1.0.8'],
        ['pod-7', '10.1.0.9'],
        ['pod-8', '10.1.0.10'],
        ['pod-9', '10.1.0.11'],
        ['blk', '10.1.0.12-10.1.0.15'],
        ['scattered', '10.1.0.80,10.1.0.90,10.1.0.99'],
        ['fixed', '10.1.0.120'],
      ],
    });
  });

  it('restorePool(spec, JSON round trip of snapshot) rebuilds the pool exactly and then behaves the same', () => {
    const pool = busyPool();
    const restored = restorePool(spec, JSON.parse(JSON.stringify(pool.snapshot())) as PoolSnapshot);
    expect(restored.snapshot()).toEqual(pool.snapshot());
    expect(restored.stats()).toEqual(pool.stats());
    expect(restored.allocations()).toEqual(pool.allocations());
    expect(restored.freeRanges().equals(pool.freeRanges())).toBe(true);
    const script = (p: Pool) => [
      texts([p.allocate('n1'), p.allocate('n2')]),
      texts(p.allocateBlock('n3', 3)),
      texts(p.release('scattered')),
      texts(p.allocateBlock('n4', 6)),
      texts(p.reserve('n5', ['10.1.0.90', '10.1.0.99'])),
    ];
    expect(script(restored)).toEqual(script(pool));
    expect(restored.snapshot()).toEqual(pool.snapshot());
  });

  it('a restored sparse pool equals the original', () => {
    const sparse: PoolSpec = {
      name: 's',
      subnet: 'fd00::/64',
      ips: ['fd00::10-fd00::40', 'fd00::1:0:0/120'],
    };
    const pool = createPool(sparse);
    for (let i = 0; i < 20; i++) pool.allocate(`p${i}`);
    pool.release('p3');
    pool.allocateBlock('b', 20);
    pool.reserve('r', ['fd00::1:0:7', 'fd00::1:0:5']);
    const restored = restorePool(sparse, JSON.parse(JSON.stringify(pool.snapshot())) as PoolSnapshot);
    expect(restored.snapshot()).toEqual(pool.snapshot());
    expect(restored.allocate('next').toString()).toBe(pool.allocate('next').toString());
    expect(texts(restored.allocateBlock('b2', 5))).toEqual(texts(pool.allocateBlock('b2', 5)));
  });

  it('reports every conflict of a snapshot in one SNAPSHOT_CONFLICT error', () => {
    const snapshot = {
      version: 1,
      pool: 'other-pool',
      subnet: '10.1.0.0/24',
      allocations: [
        ['a', '10.1.0.2'],
        ['a', '10.1.0.3'],
        ['b', '10.1.0.2'],
        ['gw', '10.1.0.1'],
        ['excluded', '10.1.0.105'],
        ['far', '10.9.0.1'],
        ['far', '10.1.0.41'],
        ['bad', '10.1.0.300'],
        ['bad', '10.1.0.40'],
        ['backwards', '10.1.0.9-10.1.0.5'],
        ['twice', '10.1.0.20,10.1.0.20'],
        [42, '10.1.0.30'],
        'not a pair',
      ],
    } as unknown as PoolSnapshot;
    const e = thrown(() => restorePool(spec, snapshot));
    expect(e.code).toBe('SNAPSHOT_CONFLICT');
    const conflicts = e.details.conflicts as SnapshotConflict[];
    expect(conflicts.map((c) => [c.reason, c.owner ?? null, c.address ?? null])).toEqual([
      ['pool-name', null, null],
      ['duplicate-owner', 'a', null],
      ['duplicate-address', 'b', '10.1.0.2'],
      ['out-of-pool', 'gw', '10.1.0.1'],
      ['out-of-pool', 'excluded', '10.1.0.105'],
      ['out-of-pool', 'far', '10.9.0.1'],
      ['duplicate-owner', 'far', null],
      ['invalid-entry', 'bad', null],
      ['duplicate-owner', 'bad', null],
      ['invalid-entry', 'backwards', null],
      ['duplicate-address', 'twice', '10.1.0.20'],
      ['invalid-entry', null, null],
      ['invalid-entry', null, null],
    ]);
    expect(conflicts[2]?.heldBy).toBe('a');
    expect(e.message).toContain('13 conflict(s)');
    expect(e.message).toContain('"other-pool"');
    expect(e.message).toContain('and 8 more');
  });

  it('reports a snapshot address that the spec no longer allows', () => {
    const pool = busyPool();
    const narrower: PoolSpec = { ...spec, excludeIPs: ['10.1.0.80-10.1.0.110'] };
    const e = thrown(() => restorePool(narrower, pool.snapshot()));
    expect(e.code).toBe('SNAPSHOT_CONFLICT');
    const conflicts = e.details.conflicts as SnapshotConflict[];
    expect(conflicts.map((c) => c.address)).toEqual(['10.1.0.80', '10.1.0.90', '10.1.0.99']);
  });

  it('a reserve of more than MAX_BLOCK contiguous addresses survives a snapshot round trip', () => {
    const spec15: PoolSpec = { name: 'wide', subnet: '10.0.0.0/15' };
    const pool = createPool(spec15);
    const list = Array.from({ length: MAX_BLOCK + 1 }, (_, i) => v4('10.0.0.1', i));
    pool.reserve('big', list);
    const restored = restorePool(spec15, JSON.parse(JSON.stringify(pool.snapshot())) as PoolSnapshot);
    expect(restored.stats()).toEqual(pool.stats());
    expect(texts(restored.addressesOf('big'))).toEqual(list);
    expect(restored.allocate('next').toString()).toBe('10.1.0.2');
    expect(texts(restored.reserve('big', list))).toEqual(list);
    for (const p of [pool, restored]) {
      expect(p.release('big').length).toBe(MAX_BLOCK + 1);
      expect(p.stats().allocated).toBe(p === pool ? 0 : 1);
      expect(p.ownerOf('10.0.0.2')).toBeUndefined();
    }
    expect(pool.freeRanges().toString()).toBe('10.0.0.1-10.1.255.254');
  });
});

describe('updatePool', () => {
  const spec: PoolSpec = {
    name: 'up',
    subnet: '10.2.0.0/24',
    ips: ['10.2.0.10-10.2.0.20'],
    gateway: '10.2.0.1',
  };

  it('keeps every allocation under a spec that still allows them, and never changes the original', () => {
    const pool = createPool(spec);
    pool.allocate('a');
    pool.allocateBlock('b', 3);
    pool.reserve('c', ['10.2.0.20', '10.2.0.18']);
    const before = state(pool);
    const next = updatePool(pool, { ...spec, ips: ['10.2.0.2-10.2.0.30'], gateway: '10.2.0.254' });
    expect(next.snapshot()).toEqual(before.snapshot);
    expect(next.stats()).toEqual({ total: 29n, allocated: 6, free: 23n, owners: 3 });
    expect(next.allocate('d').toString()).toBe('10.2.0.2');
    expect(state(pool)).toEqual(before);
    expect(pool.allocate('d').toString()).toBe('10.2.0.14');
  });

  it('refuses a spec that removes in-use addresses with ADDRESSES_STILL_IN_USE listing each one', () => {
    const pool = createPool(spec);
    pool.allocate('a');
    pool.allocateBlock('b', 3);
    pool.reserve('c', ['10.2.0.20', '10.2.0.18']);
    const before = state(pool);
    const e = thrown(() =>
      updatePool(pool, {
        ...spec,
        ips: ['10.2.0.10-10.2.0.19'],
        excludeIPs: ['10.2.0.12'],
        gateway: '10.2.0.10',
      }),
    );
    expect(e.code).toBe('ADDRESSES_STILL_IN_USE');
    expect(e.details.addresses).toEqual([
      { address: '10.2.0.10', owner: 'a' },
      { address: '10.2.0.12', owner: 'b' },
      { address: '10.2.0.20', owner: 'c' },
    ]);
    expect(e.message).toContain('10.2.0.10 (a)');
    expect(e.message).toContain('10.2.0.20 (c)');
    expect(state(pool)).toEqual(before);
  });

  it('rejects a bad new spec with INVALID_POOL_SPEC', () => {
    const pool = createPool(spec);
    expect(thrown(() => updatePool(pool, { ...spec, gateway: '10.3.0.1' })).code).toBe('INVALID_POOL_SPEC');
  });
});

describe('checkPoolOverlap', () => {
  it('is empty when no two pools share an allocatable address', () => {
    expect(checkPoolOverlap([])).toEqual([]);
    expect(
      checkPoolOverlap([
        { name: 'a', subnet: '10.0.0.0/24' },
        { name: 'b', subnet: '10.0.1.0/24' },
        { name: 'c', subnet: 'fd00::/64' },
        { name: 'd', subnet: '10.0.2.0/24', ips: ['10.0.2.1-10.0.2.9'] },
        { name: 'e', subnet: '10.0.2.0/24', ips: ['10.0.2.10-10.0.2.20'] },
      ]),
    ).toEqual([]);
  });

  it('ignores addresses a pool never hands out (gateway, excluded, reserved)', () => {
    expect(
      checkPoolOverlap([
        { name: 'a', subnet: '10.0.0.0/24', ips: ['10.0.0.1-10.0.0.5'] },
        { name: 'b', subnet: '10.0.0.0/24', ips: ['10.0.0.5-10.0.0.9'], gateway: '10.0.0.5' },
        {
          name: 'c',
          subnet: '10.0.0.0/24',
          ips: ['10.0.0.4-10.0.0.5'],
          excludeIPs: ['10.0.0.5'],
          reservedIPs: ['10.0.0.4'],
        },
      ]),
    ).toEqual([]);
  });

  it('returns every overlapping pair, in input order, with the shared addresses', () => {
    const found = checkPoolOverlap([
      { name: 'wide', subnet: '10.0.0.0/16' },
      { name: 'left', subnet: '10.0.1.0/24' },
      { name: 'other', subnet: '192.168.0.0/24' },
      { name: 'v6', subnet: 'fd00::/120' },
      { name: 'v6b', subnet: 'fd00::/64', ips: ['fd00::ff-fd00::1ff'] },
      { name: 'right', subnet: '10.0.0.0/16', ips: ['10.0.1.200-10.0.2.5'] },
    ]);
    expect(found.map((o) => [o.a, o.b, o.overlap.toString()])).toEqual([
      ['wide', 'left', '10.0.1.1-10.0.1.254'],
      ['wide', 'right', '10.0.1.200-10.0.2.5'],
      ['left', 'right', '10.0.1.200-10.0.1.254'],
      ['v6', 'v6b', 'fd00::ff'],
    ]);
  });
});

describe('a /16 pool, filled and half released', () => {
  it('hands out all 65,534 addresses in order, then the released ones lowest first', () => {
    const pool = createPool({ name: 'sixteen', subnet: '10.20.0.0/16' }, { expectedOwners: 65_534 });
    const n = 65_534;
    const first = parseAddr('10.20.0.1').toV4Number();
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      if (pool.allocate(`pod-${i}`).toV4Number() !== first + i) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(pool.stats()).toEqual({ total: 65_534n, allocated: n, free: 0n, owners: n });
    expect(thrown(() => pool.allocate('one-more')).code).toBe('POOL_EXHAUSTED');
    expect(pool.ownerOf('10.20.255.254')).toBe(`pod-${n - 1}`);

    for (let i = 1; i < n; i += 2) pool.release(`pod-${i}`);
    expect(pool.stats()).toEqual({ total: 65_534n, allocated: n / 2, free: 32_767n, owners: n / 2 });
    expect(pool.ownerOf('10.20.0.2')).toBeUndefined();
    expect(pool.allocate('pod-0').toString()).toBe('10.20.0.1');

    for (let i = 0; i < n / 2; i++) {
      if (pool.allocate(`again-${i}`).toV4Number() !== first + 2 * i + 1) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(pool.stats().free).toBe(0n);
    expect(pool.ownerOf('10.20.0.4')).toBe('again-1');
    expect(pool.snapshot().allocations.length).toBe(n);
  });
});
