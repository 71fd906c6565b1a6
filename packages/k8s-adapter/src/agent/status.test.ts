import { describe, expect, it } from 'vitest';
import type { NodePlanStatus } from '../resources';
import { APPLIED_CONDITION, nextStatus } from './status';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';

describe('nextStatus', () => {
  it('a success sets appliedGeneration, clears the error and sets Applied=True', () => {
    const s = nextStatus({ appliedGeneration: 1, error: 'boom' }, { ok: true, generation: 2 }, T0)!;
    expect(s.appliedGeneration).toBe(2);
    expect(s.error).toBeUndefined();
    expect(s.conditions).toEqual([
      {
        type: APPLIED_CONDITION,
        status: 'True',
        reason: 'Applied',
        message: 'generation 2 is applied',
        lastTransitionTime: T0,
        observedGeneration: 2,
      },
    ]);
  });

  it('says nothing (undefined) when the status already reports the outcome, so a no-op pass writes nothing', () => {
    const s = nextStatus(undefined, { ok: true, generation: 3 }, T0)!;
    expect(nextStatus(s, { ok: true, generation: 3 }, T1)).toBeUndefined();
    const f = nextStatus(s, { ok: false, generation: 4, error: 'bad', reason: 'InvalidPlan' }, T1)!;
    expect(
      nextStatus(f, { ok: false, generation: 4, error: 'bad', reason: 'InvalidPlan' }, T1),
    ).toBeUndefined();
  });

  it('a failure keeps the last applied generation, records the error, flips the condition and its transition time', () => {
    const ok = nextStatus(undefined, { ok: true, generation: 1 }, T0)!;
    const f = nextStatus(
      ok,
      { ok: false, generation: 2, error: 'nft -f - exited 1', reason: 'CommandFailed' },
      T1,
    )!;
    expect(f.appliedGeneration).toBe(1);
    expect(f.error).toBe('nft -f - exited 1');
    expect(f.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'CommandFailed',
      lastTransitionTime: T1,
      observedGeneration: 2,
    });
    // Same status again with another message: the transition time stays.
    const g = nextStatus(
      f,
      { ok: false, generation: 2, error: 'other', reason: 'CommandFailed' },
      '2026-01-01T00:02:00Z',
    )!;
    expect(g.conditions?.[0]?.lastTransitionTime).toBe(T1);
  });

  it("keeps other writers' conditions and caps a long error", () => {
    const other = {
      type: 'Other',
      status: 'True' as const,
      reason: 'X',
      message: 'y',
      lastTransitionTime: T0,
    };
    const cur: NodePlanStatus = { conditions: [other] };
    const s = nextStatus(
      cur,
      { ok: false, generation: 1, error: 'e'.repeat(10_000), reason: 'CommandFailed' },
      T0,
    )!;
    expect(s.conditions?.[0]).toEqual(other);
    expect(s.error?.length).toBe(4000);
    expect(s.appliedGeneration).toBeUndefined();
  });
});
