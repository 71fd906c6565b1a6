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
});
