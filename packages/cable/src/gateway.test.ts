import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { electGateway, formatMicroTime, type GatewayCandidate, releaseLease } from './gateway';
import { thrown } from './test-support';

const gw = { 'submariner.io/gateway': 'true' };
const T0 = Date.parse('2025-01-01T00:00:00Z');
const cands = (...xs: [string, boolean][]): GatewayCandidate[] =>
  xs.map(([node, healthy]) => ({ node, healthy, labels: gw }));

describe('electGateway', () => {
  it('with no lease, the first healthy labelled candidate (by name) acquires one', () => {
    const e = electGateway(
      [
        { node: 'n3', healthy: true, labels: gw },
        { node: 'n1', healthy: false, labels: gw },
        { node: 'n0', healthy: true },
        { node: 'n2', healthy: true, labels: gw },
      ],
      null,
      T0,
    );
    expect(e).toEqual({
      active: 'n2',
      action: 'acquire',
      lease: {
        holderIdentity: 'n2',
        leaseDurationSeconds: 15,
        acquireTime: '2025-01-01T00:00:00.000000Z',
        renewTime: '2025-01-01T00:00:00.000000Z',
        leaseTransitions: 1,
      },
      nextActionAt: T0 + 7500,
      reason: 'the lease is free; n2 acquires it',
      observation: {
        record: '["n2",15,"2025-01-01T00:00:00.000000Z","2025-01-01T00:00:00.000000Z",1]',
        observedAt: T0,
      },
    });
  });

  it('a healthy holder keeps the lease, renews it after half its duration, and says when to look again', () => {
    const lease = {
      holderIdentity: 'n2',
      leaseDurationSeconds: 10,
      renewTime: formatMicroTime(T0),
      leaseTransitions: 3,
    };
    const keep = electGateway(cands(['n1', true], ['n2', true]), lease, T0 + 4000);
    expect(keep).toMatchObject({ active: 'n2', action: 'keep', nextActionAt: T0 + 5000 });
    const renew = electGateway(cands(['n1', true], ['n2', true]), lease, T0 + 6000);
    expect(renew).toMatchObject({ active: 'n2', action: 'renew', nextActionAt: T0 + 11000 });
    expect(renew.lease).toEqual({ ...lease, acquireTime: null, renewTime: formatMicroTime(T0 + 6000) });
  });

  it('an unhealthy holder keeps the role until its lease expires; then the next candidate takes over', () => {
    const lease = {
      holderIdentity: 'n2',
      leaseDurationSeconds: 10,
      acquireTime: formatMicroTime(T0),
      renewTime: formatMicroTime(T0),
      leaseTransitions: 3,
    };
    const wait = electGateway(cands(['n1', true], ['n2', false]), lease, T0 + 9999);
    expect(wait).toMatchObject({ active: 'n2', action: 'wait', nextActionAt: T0 + 10000 });
    expect(wait.reason).toBe(
      'n2 holds the lease but is not eligible; nobody takes over before the lease expires at 2025-01-01T00:00:10.000000Z',
    );
    const take = electGateway(cands(['n1', true], ['n2', false]), lease, T0 + 10000);
    expect(take).toMatchObject({ active: 'n1', action: 'takeover' });
    expect(take.lease).toMatchObject({
      holderIdentity: 'n1',
      leaseTransitions: 4,
      acquireTime: formatMicroTime(T0 + 10000),
    });
  });

  it('a holder that released the lease is replaced at once; an expired but healthy holder re-acquires without a transition', () => {
    const lease = {
      holderIdentity: 'n2',
      leaseDurationSeconds: 10,
      renewTime: formatMicroTime(T0),
      leaseTransitions: 3,
    };
    const released = releaseLease(lease, 'n2', T0 + 1000);
    expect(released.holderIdentity).toBeNull();
    expect(electGateway(cands(['n1', true], ['n2', false]), released, T0 + 1001)).toMatchObject({
      active: 'n1',
      action: 'acquire',
    });
    const again = electGateway(cands(['n1', true], ['n2', true]), lease, T0 + 20000);
    expect(again).toMatchObject({ active: 'n2', action: 'acquire' });
    expect(again.lease.leaseTransitions).toBe(3);
    expect(thrown(() => releaseLease(lease, 'n1', T0)).code).toBe('INVALID_LEASE');
  });

  it('nobody eligible and no live lease: none', () => {
    expect(electGateway(cands(['n1', false]), null, T0)).toMatchObject({
      active: null,
      action: 'none',
      nextActionAt: null,
    });
  });

  it('bad input is a typed error', () => {
    expect(thrown(() => electGateway(cands(['n1', true], ['n1', true]), null, T0)).message).toContain(
      '"n1" appears twice',
    );
    expect(thrown(() => electGateway([], { renewTime: 'yesterday' }, T0)).code).toBe('INVALID_LEASE');
    expect(thrown(() => electGateway([], { leaseDurationSeconds: 0 }, T0)).code).toBe('INVALID_LEASE');
    expect(thrown(() => electGateway([], null, Number.NaN)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => electGateway([], null, T0, { renewFraction: 1 })).code).toBe('INVALID_ARGUMENT');
  });

  it('a time outside the Date range or a lease that is not an object is a typed error, not a crash', () => {
    expect(thrown(() => electGateway(cands(['n1', true]), null, 8.64e15 + 1)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => releaseLease({ holderIdentity: 'n1' }, 'n1', -8.64e15 - 1)).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(thrown(() => electGateway(cands(['n1', true]), 'n1' as never, T0)).code).toBe('INVALID_LEASE');
  });

  it('accepts a Date for now and any label (or none) as the gateway marker', () => {
    const e = electGateway([{ node: 'a', healthy: true, labels: { role: 'gw' } }], null, new Date(T0), {
      gatewayLabel: { key: 'role', value: 'gw' },
    });
    expect(e.active).toBe('a');
    expect(electGateway([{ node: 'a', healthy: true }], null, T0, { gatewayLabel: null }).active).toBe('a');
  });

  it('lease times are strict: an impossible date or time is INVALID_LEASE naming the field', () => {
    for (const [field, value] of [
      ['renewTime', '2025-02-30T10:00:00.000000Z'],
      ['renewTime', '2024-02-30T00:00:00Z'],
      ['acquireTime', '2025-04-31T00:00:00Z'],
      ['acquireTime', '2025-13-01T00:00:00Z'],
      ['renewTime', '2025-01-01T24:00:00Z'],
      ['renewTime', '2025-01-01T10:60:00Z'],
      ['renewTime', '2025-01-01T10:00:60Z'],
      ['renewTime', '2025-01-01T10:00:00+24:00'],
      ['renewTime', '2025-01-01T10:00:00+05:60'],
      ['renewTime', '2025-00-10T10:00:00Z'],
    ] as const) {
      const e = thrown(() => electGateway(cands(['n1', true]), { holderIdentity: 'n1', [field]: value }, T0));
      expect(e.code).toBe('INVALID_LEASE');
      expect(e.details).toEqual({ field, value });
      expect(e.message).toContain(`lease.${field} "${value}"`);
    }
    // Real dates pass: a leap day, an offset, nanoseconds, Kubernetes' MicroTime form.
    for (const ok of [
      '2024-02-29T23:59:59Z',
      '2025-01-01T10:00:00+05:30',
      '2025-01-01T00:00:00.123456789Z',
      formatMicroTime(T0),
    ]) {
      expect(electGateway(cands(['n1', true]), { holderIdentity: 'n1', renewTime: ok }, T0).active).toBe(
        'n1',
      );
    }
  });

  it('a lease time is accepted exactly when its fields name a real instant', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 2400 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        (y, mo, d, h, mi) => {
          const text = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:00.000000Z`;
          const ms = Date.UTC(y, mo - 1, d, h, mi);
          const real =
            mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && new Date(ms).getUTCDate() === d;
          let ok = true;
          try {
            electGateway([], { renewTime: text }, T0);
          } catch (e) {
            expect((e as { code?: string }).code).toBe('INVALID_LEASE');
            ok = false;
          }
          expect(ok).toBe(real);
        },
      ),
    );
  });

  it('without an observation, a renewTime in the future counts as renewed now, never later', () => {
    // n2's clock is an hour ahead: its renewTime lies in everybody else's future.
    const lease = {
      holderIdentity: 'n2',
      leaseDurationSeconds: 10,
      renewTime: formatMicroTime(T0 + 3_600_000),
    };
    const keep = electGateway(cands(['n1', true], ['n2', true]), lease, T0);
    expect(keep).toMatchObject({ active: 'n2', action: 'keep', nextActionAt: T0 + 5000 });
    const wait = electGateway(cands(['n1', true], ['n2', false]), lease, T0);
    expect(wait).toMatchObject({ active: 'n2', action: 'wait', nextActionAt: T0 + 10000 });
    expect(wait.reason).toContain(`expires at ${formatMicroTime(T0 + 10000)}`);
  });

  it('with observations, expiry is judged by when this caller saw the record change, not by its timestamps', () => {
    const c = cands(['n1', true], ['n2', false]);
    // n2's clock is an hour ahead; it wrote the lease and died.
    const ahead = {
      holderIdentity: 'n2',
      leaseDurationSeconds: 10,
      renewTime: formatMicroTime(T0 + 3_600_000),
    };
    const first = electGateway(c, ahead, T0, { observed: null });
    expect(first).toMatchObject({ active: 'n2', action: 'wait', nextActionAt: T0 + 10000 });
    expect(first.observation.observedAt).toBe(T0);
    const later = electGateway(c, ahead, T0 + 9999, { observed: first.observation });
    expect(later).toMatchObject({ action: 'wait', nextActionAt: T0 + 10000 });
    expect(later.observation).toEqual(first.observation);
    const take = electGateway(c, ahead, T0 + 10000, { observed: later.observation });
    expect(take).toMatchObject({ active: 'n1', action: 'takeover' });
    expect(take.lease.renewTime).toBe(formatMicroTime(T0 + 10000));
    // The observation follows the lease this caller writes.
    expect(take.observation.observedAt).toBe(T0 + 10000);
    expect(
      electGateway(cands(['n1', true]), take.lease, T0 + 12000, { observed: take.observation }),
    ).toMatchObject({
      active: 'n1',
      action: 'keep',
      nextActionAt: T0 + 15000,
    });

    // n2's clock is an hour behind: its fresh renewal looks long expired, but it was seen changing just now.
    const behind = { ...ahead, renewTime: formatMicroTime(T0 + 5000 - 3_600_000) };
    expect(electGateway(c, behind, T0 + 5000, { observed: null }).action).toBe('wait');
    const seen = electGateway(c, behind, T0 + 5000, { observed: later.observation });
    expect(seen).toMatchObject({ active: 'n2', action: 'wait', nextActionAt: T0 + 15000 });
    expect(electGateway(c, behind, T0 + 14999, { observed: seen.observation }).action).toBe('wait');
    expect(electGateway(c, behind, T0 + 15000, { observed: seen.observation }).action).toBe('takeover');
    // The same lease without an observation trusts the timestamp (the old behaviour).
    expect(electGateway(c, behind, T0 + 5000).action).toBe('takeover');
  });

  it('an observation from the future counts from now; a malformed one is a typed error', () => {
    const c = cands(['n1', true], ['n2', false]);
    const lease = { holderIdentity: 'n2', leaseDurationSeconds: 10, renewTime: formatMicroTime(T0) };
    const { observation } = electGateway(c, lease, T0 + 60_000, { observed: null });
    expect(electGateway(c, lease, T0, { observed: observation })).toMatchObject({
      action: 'wait',
      nextActionAt: T0 + 10000,
    });
    for (const bad of [
      {},
      { record: 'x' },
      { record: 1, observedAt: T0 },
      { record: 'x', observedAt: Number.NaN },
      'x',
    ]) {
      const e = thrown(() => electGateway(c, lease, T0, { observed: bad as never }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.details).toMatchObject({ field: 'observed' });
    }
  });

  it('a lease with a holder but no times is taken over with a reason, not a RangeError', () => {
    const e = electGateway(cands(['n1', true]), { holderIdentity: 'n2' }, T0);
    expect(e).toMatchObject({ active: 'n1', action: 'takeover' });
    expect(e.reason).toBe('the lease of n2 was never renewed; n1 takes over');
  });
});
