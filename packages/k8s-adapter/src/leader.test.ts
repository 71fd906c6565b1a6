import { describe, expect, it, vi } from 'vitest';
import { KubeError } from './kube/errors';
import { createLeaderElector, type Lease, type LeaseStore, leaseHeld, microTime } from './leader';

/** An in-memory Lease with the API server's optimistic concurrency: writes must carry the current resourceVersion. */
function memoryStore(): LeaseStore & { lease: Lease | undefined; writes: number; failing: boolean } {
  let rv = 0;
  const s = {
    lease: undefined as Lease | undefined,
    writes: 0,
    failing: false,
    async get() {
      if (s.failing) throw new KubeError('NETWORK', 'down');
      return s.lease === undefined ? undefined : structuredClone(s.lease);
    },
    async create(l: Lease) {
      if (s.failing) throw new KubeError('NETWORK', 'down');
      if (s.lease) throw new KubeError('ALREADY_EXISTS', 'exists', { status: 409 });
      s.writes++;
      s.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++rv) } };
      return structuredClone(s.lease);
    },
    async update(l: Lease) {
      if (s.failing) throw new KubeError('NETWORK', 'down');
      if (!s.lease || l.metadata.resourceVersion !== s.lease.metadata.resourceVersion)
        throw new KubeError('CONFLICT', 'conflict', { status: 409 });
      s.writes++;
      s.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++rv) } };
      return structuredClone(s.lease);
    },
  };
  return s;
}

function clock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

function elector(store: LeaseStore, c: ReturnType<typeof clock>, identity: string, log: string[] = []) {
  return createLeaderElector({
    store,
    namespace: 'isthmus-system',
    name: 'isthmus-controller',
    identity,
    leaseDurationSeconds: 15,
    renewDeadlineMs: 10_000,
    now: c.now,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

describe('leader election on a Lease', () => {
  it('the first replica creates the Lease and leads; the second waits while it is held', async () => {
    const store = memoryStore();
    const c = clock();
    const log: string[] = [];
    const a = elector(store, c, 'a', log);
    const b = elector(store, c, 'b', log);
    expect(await a.tick()).toBe(true);
    expect(await b.tick()).toBe(false);
    expect(store.lease?.spec?.holderIdentity).toBe('a');
    expect(store.lease?.spec?.leaseDurationSeconds).toBe(15);
    expect(store.lease?.spec?.leaseTransitions).toBe(0);
    expect(b.leader).toBe('a');
    expect(log).toEqual(['a started']);
  });

  it('renewing moves renewTime and keeps acquireTime', async () => {
    const store = memoryStore();
    const c = clock();
    const a = elector(store, c, 'a');
    await a.tick();
    const acquired = store.lease?.spec?.acquireTime;
    c.advance(2_000);
    expect(await a.tick()).toBe(true);
    expect(store.lease?.spec?.acquireTime).toBe(acquired);
    expect(store.lease?.spec?.renewTime).toBe(microTime(c.now()));
  });

  it('another replica takes the Lease only once renewTime + leaseDurationSeconds has passed', async () => {
    const store = memoryStore();
    const c = clock();
    const log: string[] = [];
    const a = elector(store, c, 'a', log);
    const b = elector(store, c, 'b', log);
    await a.tick();
    c.advance(14_999);
    expect(await b.tick()).toBe(false);
    c.advance(1);
    expect(await b.tick()).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBe('b');
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    // a comes back, finds b holding it and steps down.
    expect(await a.tick()).toBe(false);
    expect(a.isLeader).toBe(false);
    expect(log).toEqual(['a started', 'b started', 'a stopped']);
  });

  it('stop() releases the Lease (empty holder, 1 s) so the next replica takes it at once', async () => {
    const store = memoryStore();
    const c = clock();
    const a = elector(store, c, 'a');
    const b = elector(store, c, 'b');
    await a.tick();
    await a.stop();
    expect(store.lease?.spec?.holderIdentity).toBe('');
    expect(store.lease?.spec?.leaseDurationSeconds).toBe(1);
    expect(a.isLeader).toBe(false);
    expect(await b.tick()).toBe(true);
  });

  it('a write at a stale resourceVersion loses the round: only one of two racing replicas wins', async () => {
    const store = memoryStore();
    const c = clock();
    const a = elector(store, c, 'a');
    const b = elector(store, c, 'b');
    await a.tick();
    c.advance(20_000); // expired: both may try
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
  });

  it('a leader that cannot renew keeps leading until the renew deadline, then steps down', async () => {
    const store = memoryStore();
    const c = clock();
    const log: string[] = [];
    const a = elector(store, c, 'a', log);
    await a.tick();
    store.failing = true;
    c.advance(5_000);
    expect(await a.tick()).toBe(true);
    c.advance(6_000);
    expect(await a.tick()).toBe(false);
    expect(log).toEqual(['a started', 'a stopped']);
  });

  it('leaseHeld reads renewTime + leaseDurationSeconds; no holder or no renewTime means free', () => {
    const now = new Date('2026-01-01T00:00:10Z');
    const lease = (spec: NonNullable<Lease['spec']>): Lease => ({ metadata: { name: 'x' }, spec });
    expect(
      leaseHeld(
        lease({ holderIdentity: 'a', renewTime: '2026-01-01T00:00:00.000000Z', leaseDurationSeconds: 15 }),
        now,
      ),
    ).toBe(true);
    expect(
      leaseHeld(
        lease({ holderIdentity: 'a', renewTime: '2026-01-01T00:00:00.000000Z', leaseDurationSeconds: 10 }),
        now,
      ),
    ).toBe(false);
    expect(
      leaseHeld(
        lease({ holderIdentity: '', renewTime: '2026-01-01T00:00:09.000000Z', leaseDurationSeconds: 15 }),
        now,
      ),
    ).toBe(false);
    expect(leaseHeld(lease({ holderIdentity: 'a', leaseDurationSeconds: 15 }), now)).toBe(false);
  });

  it('start() runs the loop on its own and stop() ends it', async () => {
    const store = memoryStore();
    const a = createLeaderElector({
      store,
      namespace: 'n',
      name: 'l',
      identity: 'a',
      retryPeriodMs: 10,
      leaseDurationSeconds: 1,
    });
    a.start();
    await new Promise((r) => setTimeout(r, 80));
    expect(a.isLeader).toBe(true);
    expect(store.writes).toBeGreaterThan(2);
    await a.stop();
    const writes = store.writes;
    await new Promise((r) => setTimeout(r, 50));
    expect(store.writes).toBe(writes);
  });

  it("a standby tries again when the holder's Lease runs out, not a whole retry period later", async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
    try {
      const store = memoryStore();
      const opts = {
        store,
        namespace: 'n',
        name: 'l',
        leaseDurationSeconds: 3,
        retryPeriodMs: 2_000,
        random: () => 0,
      };
      const a = createLeaderElector({ ...opts, identity: 'a' });
      expect(await a.tick()).toBe(true); // a renews at t = 0, then dies (never ticks again)
      await vi.advanceTimersByTimeAsync(500);
      const b = createLeaderElector({ ...opts, identity: 'b' });
      await b.start(); // t = 0.5 s: held until t = 3 s; plain polling would try at 2.5 s and 4.5 s
      expect(b.isLeader).toBe(false);
      await vi.advanceTimersByTimeAsync(2_000); // t = 2.5 s: still held
      expect(b.isLeader).toBe(false);
      await vi.advanceTimersByTimeAsync(400); // t = 2.9 s
      expect(b.isLeader).toBe(false);
      await vi.advanceTimersByTimeAsync(200); // t = 3.1 s: the attempt at expiry + 10 ms has won
      expect(b.isLeader).toBe(true);
      expect(store.lease?.spec?.holderIdentity).toBe('b');
      expect(store.lease?.spec?.leaseTransitions).toBe(1);
      await b.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('with the store down, a standby past the known expiry keeps the retry period (no busy loop)', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
    try {
      const store = memoryStore();
      const opts = {
        store,
        namespace: 'n',
        name: 'l',
        leaseDurationSeconds: 1,
        retryPeriodMs: 1_000,
        random: () => 0,
      };
      const a = createLeaderElector({ ...opts, identity: 'a' });
      await a.tick();
      const b = createLeaderElector({ ...opts, identity: 'b' });
      let gets = 0;
      const get = store.get.bind(store);
      store.get = async () => {
        gets++;
        return get();
      };
      await b.start(); // reads the expiry (t = 1 s)
      store.failing = true;
      await vi.advanceTimersByTimeAsync(10_000);
      // One read at start, one at expiry, then one per second: about 11, never thousands.
      expect(gets).toBeGreaterThanOrEqual(9);
      expect(gets).toBeLessThanOrEqual(13);
      expect(b.isLeader).toBe(false);
      await b.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
