// Conditions with metav1.Condition's meaning: lastTransitionTime moves only when status changes.
import type { Condition } from '../resources';

/** The conditions with `next` set: the old lastTransitionTime is kept when the status did not change. */
export function setCondition(
  current: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const list = [...(current ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? list[i] : undefined;
  const cond: Condition = {
    ...next,
    lastTransitionTime: old !== undefined && old.status === next.status ? old.lastTransitionTime : now,
  };
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  return list.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** True when two condition lists say the same (times aside). */
export function sameConditions(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  const byType = new Map(y.map((c) => [c.type, c]));
  return x.every((c) => {
    const o = byType.get(c.type);
    return (
      o !== undefined &&
      o.status === c.status &&
      o.reason === c.reason &&
      o.message === c.message &&
      o.observedGeneration === c.observedGeneration
    );
  });
}
