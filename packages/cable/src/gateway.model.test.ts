import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Election,
  electGateway,
  formatMicroTime,
  type GatewayCandidate,
  type Lease,
  type LeaseObservation,
  leaseExpiry,
  releaseLease,
} from './gateway';

// The real system: one Lease object written with compare-and-swap, several nodes whose health and
// labels change, a clock, and controllers that each see the candidates through their own (possibly
// stale) eyes. The model: who holds the role over which interval of time.
interface Model {
  now: number;
  lease: Lease | null;
  health: Record<string, boolean>;
  labelled: Record<string, boolean>;
  /** Each node's claim to the role: [from, until) as the lease it last wrote promised. */
  terms: { node: string; from: number; until: number }[];
  released: Set<string>;
  /** Each node's clock minus the true one (constant: clocks may be off, but they run at the right rate). */
  skew: Record<string, number>;
  /** The observation each node's controller keeps between calls (null: none yet, or it restarted). */
  seen: Record<string, LeaseObservation | null>;
  /** True time at which each node's controller last saw the lease record change. */
  seenTrue: Record<string, number>;
  /** True time of the last write to the lease (null: never written). */
  lastWrite: number | null;
}

const DURATION = 10_000;
const clockOf = (m: Readonly<Model>, node: string) => m.now + m.skew[node]!;

/** Stores a decision that writes the lease, and checks that no two nodes' terms overlap in true time. */
function write(m: Model, e: Election): void {
  if (e.action === 'renew' || e.action === 'acquire' || e.action === 'takeover') {
    m.lease = e.lease;
    m.lastWrite = m.now;
    // The writer's claim lasts one duration of true time, whatever its clock wrote into the lease.
    const until = m.now + DURATION;
    const mine = m.terms.filter((t) => t.node === e.active && t.until >= m.now).at(-1);
    if (mine && e.action === 'renew') mine.until = until;
    else m.terms.push({ node: e.active!, from: m.now, until });
  }
  // Never two active gateways: the terms of different nodes do not overlap in time.
  const ts = [...m.terms].sort((x, y) => x.from - y.from);
  for (let i = 1; i < ts.length; i++) {
    if (ts[i]!.node !== ts[i - 1]!.node) expect(ts[i]!.from).toBeGreaterThanOrEqual(ts[i - 1]!.until);
  }
}
interface Real {
  elections: Election[];
}

const NODES = ['n1', 'n2', 'n3'];
const label = { 'submariner.io/gateway': 'true' };

function view(m: Model, stale: Record<string, boolean> | null): GatewayCandidate[] {
  return NODES.map((node) => ({
    node,
    healthy: stale?.[node] ?? m.health[node]!,
    ...(m.labelled[node] ? { labels: label } : {}),
  }));
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model): void {
    m.now += this.ms;
  }
  toString = () => `advance(${this.ms})`;
}

class SetHealth implements fc.Command<Model, Real> {
  constructor(
    readonly node: string,
    readonly healthy: boolean,
    readonly labelled: boolean,
  ) {}
  check = () => true;
  run(m: Model): void {
    m.health[this.node] = this.healthy;
    m.labelled[this.node] = this.labelled;
  }
  toString = () => `set(${this.node}, healthy=${this.healthy}, labelled=${this.labelled})`;
}

class Release implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => m.lease?.holderIdentity != null;
  run(m: Model): void {
    const holder = m.lease!.holderIdentity!;
    m.lease = releaseLease(m.lease!, holder, clockOf(m, holder));
    m.lastWrite = m.now;
    // The holder stops acting as gateway the moment it releases.
    for (const t of m.terms) if (t.node === holder && t.until > m.now) t.until = m.now;
    m.released.add(holder);
  }
  toString = () => 'release';
}

/** A controller runs electGateway on its view (fresh, or with one node's health flipped = stale) and writes. */
class Elect implements fc.Command<Model, Real> {
  constructor(readonly staleNode: string | null) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const stale = this.staleNode === null ? null : { [this.staleNode]: !m.health[this.staleNode] };
    const before = m.lease;
    const e = electGateway(view(m, stale), before, m.now, { leaseDurationSeconds: 10 });
    r.elections.push(e);
    const holder = before?.holderIdentity ?? null;
    const live = before !== null && holder !== null && m.now < leaseExpiry(before);
    const sawEligible = (n: string) => (stale?.[n] ?? m.health[n]!) && m.labelled[n]!;

    // The active node is the lease's holder whenever a lease lives: never a second one.
    if (live) expect(e.active).toBe(holder);
    // Takeover only after expiry (or release): a live lease is never handed to another node.
    if (live) expect(e.lease.holderIdentity).toBe(holder);
    if (e.action === 'takeover') {
      expect(holder).not.toBeNull();
      expect(m.now).toBeGreaterThanOrEqual(leaseExpiry(before!));
    }
    // A healthy holder (as this controller sees it) keeps the lease.
    if (live && sawEligible(holder!)) expect(['keep', 'renew']).toContain(e.action);
    if (live && !sawEligible(holder!)) expect(e.action).toBe('wait');
    // Whoever acquires must be eligible in the controller's view.
    if (e.action === 'acquire' || e.action === 'takeover') expect(sawEligible(e.active!)).toBe(true);
    // Transitions count holder changes.
    if (e.action === 'takeover' || (e.action === 'acquire' && e.active !== holder)) {
      expect(e.lease.leaseTransitions).toBe((before?.leaseTransitions ?? 0) + 1);
    } else {
      expect(e.lease.leaseTransitions).toBe(before?.leaseTransitions ?? 0);
    }

    if (e.action === 'renew' || e.action === 'acquire' || e.action === 'takeover') {
      expect(leaseExpiry(e.lease)).toBe(m.now + DURATION);
    }
    write(m, e);
  }
  toString = () => `elect(stale=${this.staleNode})`;
}

/**
 * The controller on `node` runs electGateway with its own (skewed) clock and the observation it kept
 * from its previous call, as client-go does, and writes what it decides.
 */
class SkewedElect implements fc.Command<Model, Real> {
  constructor(
    readonly node: string,
    readonly staleNode: string | null,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const stale = this.staleNode === null ? null : { [this.staleNode]: !m.health[this.staleNode] };
    const local = clockOf(m, this.node);
    const before = m.lease;
    const prev = m.seen[this.node]!;
    const e = electGateway(view(m, stale), before, local, { leaseDurationSeconds: 10, observed: prev });
    r.elections.push(e);
    m.seen[this.node] = e.observation;
    if (e.observation.observedAt === local) m.seenTrue[this.node] = m.now;
    const holder = before?.holderIdentity ?? null;
    // Live in true time: less than one duration since the holder's last write.
    const live = holder !== null && m.lastWrite !== null && m.now < m.lastWrite + DURATION;
    const sawEligible = (n: string) => (stale?.[n] ?? m.health[n]!) && m.labelled[n]!;

    if (live) expect(e.active).toBe(holder);
    if (live) expect(e.lease.holderIdentity).toBe(holder);
    if (live && sawEligible(holder!)) expect(['keep', 'renew']).toContain(e.action);
    if (live && !sawEligible(holder!)) expect(e.action).toBe('wait');
    if (e.action === 'acquire' || e.action === 'takeover') expect(sawEligible(e.active!)).toBe(true);
    if (holder !== null && e.lease.holderIdentity !== holder) {
      // Takeover only after the lease went unrenewed for its duration, on the observer's own clock...
      expect(prev).not.toBeNull();
      expect(local - prev!.observedAt).toBeGreaterThanOrEqual(DURATION);
      // ...having seen the record as it now is (no write since), and so also in true time.
      expect(m.seenTrue[this.node]!).toBeGreaterThanOrEqual(m.lastWrite!);
      expect(m.now - m.lastWrite!).toBeGreaterThanOrEqual(DURATION);
    }
    if (e.action === 'renew' || e.action === 'acquire' || e.action === 'takeover') {
      expect(e.observation.observedAt).toBe(local);
      expect(e.lease.renewTime).toBe(formatMicroTime(local));
    }
    write(m, e);
  }
  toString = () => `skewedElect(${this.node}, stale=${this.staleNode})`;
}

/** A node's controller restarts and forgets its observation. */
class Restart implements fc.Command<Model, Real> {
  constructor(readonly node: string) {}
  check = () => true;
  run(m: Model): void {
    m.seen[this.node] = null;
  }
  toString = () => `restart(${this.node})`;
}

function initial(skew: Record<string, number>): Model {
  return {
    now: Date.parse('2025-01-01T00:00:00Z'),
    lease: null,
    health: { n1: true, n2: true, n3: true },
    labelled: { n1: true, n2: true, n3: false },
    terms: [],
    released: new Set(),
    skew,
    seen: { n1: null, n2: null, n3: null },
    seenTrue: {},
    lastWrite: null,
  };
}

describe('electGateway, model-based', () => {
  const shared = [
    fc.integer({ min: 1, max: 12_000 }).map((ms) => new Advance(ms)),
    fc
      .tuple(fc.constantFrom(...NODES), fc.boolean(), fc.boolean())
      .map(([n, h, l]) => new SetHealth(n, h, l)),
    fc.constant(new Release()),
  ];
  const skewedElect = fc
    .tuple(fc.constantFrom(...NODES), fc.option(fc.constantFrom(...NODES), { nil: null }))
    .map(([n, s]) => new SkewedElect(n, s));

  it('never two active gateways for one lease; takeover only after expiry; a healthy holder keeps the lease', () => {
    const commands = [
      ...shared,
      fc.option(fc.constantFrom(...NODES), { nil: null }).map((n) => new Elect(n)),
      // With true clocks, controllers that keep observations mix safely with ones that do not.
      skewedElect,
      fc.constantFrom(...NODES).map((n) => new Restart(n)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80 }), (cmds) => {
        const model = initial({ n1: 0, n2: 0, n3: 0 });
        fc.modelRun(() => ({ model, real: { elections: [] } }), cmds);
      }),
      { numRuns: 300 },
    );
  });

  it('with skewed clocks and observations: never two holders; takeover only after a full duration unrenewed', () => {
    // Offsets from a few seconds to two hours either way: renewTimes land in others' past and future.
    const offset = fc.oneof(
      fc.integer({ min: -20_000, max: 20_000 }),
      fc.integer({ min: -7_200_000, max: 7_200_000 }),
    );
    const commands = [...shared, skewedElect, fc.constantFrom(...NODES).map((n) => new Restart(n))];
    fc.assert(
      fc.property(
        fc.tuple(offset, offset, offset),
        fc.commands(commands, { maxCommands: 80 }),
        ([s1, s2, s3], cmds) => {
          const model = initial({ n1: s1, n2: s2, n3: s3 });
          fc.modelRun(() => ({ model, real: { elections: [] } }), cmds);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with a fresh view, an eligible node is active whenever any node is eligible and no other holds a live lease', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 3, maxLength: 3 }),
        fc.option(fc.constantFrom(...NODES), { nil: null }),
        fc.integer({ min: 0, max: 30_000 }),
        (flags, holder, age) => {
          const t0 = Date.parse('2025-01-01T00:00:00Z');
          const cands = NODES.map((node, i) => ({
            node,
            healthy: flags[i]![0],
            ...(flags[i]![1] ? { labels: label } : {}),
          }));
          const lease =
            holder === null
              ? null
              : {
                  holderIdentity: holder,
                  leaseDurationSeconds: 10,
                  renewTime: new Date(t0).toISOString(),
                  leaseTransitions: 1,
                };
          const e = electGateway(cands, lease, t0 + age);
          const anyEligible = cands.some((c) => c.healthy && c.labels !== undefined);
          const liveOther = holder !== null && age < 10_000;
          if (!liveOther) expect(e.active !== null).toBe(anyEligible);
          if (e.active !== null && !liveOther) {
            const c = cands.find((x) => x.node === e.active)!;
            expect(c.healthy && c.labels !== undefined).toBe(true);
          }
        },
      ),
    );
  });
});
