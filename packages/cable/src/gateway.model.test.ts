import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Election,
  electGateway,
  type GatewayCandidate,
  type Lease,
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
    m.lease = releaseLease(m.lease!, holder, m.now);
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
      m.lease = e.lease;
      const until = leaseExpiry(e.lease);
      const mine = m.terms.filter((t) => t.node === e.active && t.until >= m.now).at(-1);
      if (mine && e.action === 'renew') mine.until = until;
      else m.terms.push({ node: e.active!, from: m.now, until });
    } else if (before === null) {
      m.lease = e.lease;
    }
    // Never two active gateways: the terms of different nodes do not overlap in time.
    const ts = [...m.terms].sort((x, y) => x.from - y.from);
    for (let i = 1; i < ts.length; i++) {
      if (ts[i]!.node !== ts[i - 1]!.node) expect(ts[i]!.from).toBeGreaterThanOrEqual(ts[i - 1]!.until);
    }
  }
  toString = () => `elect(stale=${this.staleNode})`;
}

describe('electGateway, model-based', () => {
  it('never two active gateways for one lease; takeover only after expiry; a healthy holder keeps the lease', () => {
    const commands = [
      fc.integer({ min: 1, max: 12_000 }).map((ms) => new Advance(ms)),
      fc
        .tuple(fc.constantFrom(...NODES), fc.boolean(), fc.boolean())
        .map(([n, h, l]) => new SetHealth(n, h, l)),
      fc.option(fc.constantFrom(...NODES), { nil: null }).map((n) => new Elect(n)),
      fc.constant(new Release()),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80 }), (cmds) => {
        const model: Model = {
          now: Date.parse('2025-01-01T00:00:00Z'),
          lease: null,
          health: { n1: true, n2: true, n3: true },
          labelled: { n1: true, n2: true, n3: false },
          terms: [],
          released: new Set(),
        };
        fc.modelRun(() => ({ model, real: { elections: [] } }), cmds);
      }),
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
