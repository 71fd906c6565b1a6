// Collects one step's writes: one merge patch per object, the last status per CR, problems once each.
import type { IPPoolStatus } from '../resources';
import type { AnnotationWrite, ObjectRef, Problem, StatusWrite, Writes } from './types';

type AnnotatedRef = AnnotationWrite['ref'];

export class Outbox {
  private readonly annotations = new Map<
    string,
    { ref: AnnotatedRef; values: Record<string, string | null> }
  >();
  private readonly statuses = new Map<string, StatusWrite>();
  private readonly problems = new Map<string, Problem>();

  /** Sets (string) or removes (null) one annotation when `current` differs. */
  annotate(
    ref: AnnotatedRef,
    current: Readonly<Record<string, string>> | undefined,
    key: string,
    value: string | null,
  ): void {
    const now = current?.[key];
    if ((value === null && now === undefined) || now === value) {
      // Already as desired; drop an earlier change to it in this step, if any.
      const pending = this.annotations.get(refKey(ref));
      if (pending !== undefined && key in pending.values) delete pending.values[key];
      return;
    }
    const k = refKey(ref);
    let entry = this.annotations.get(k);
    if (entry === undefined) {
      entry = { ref, values: {} };
      this.annotations.set(k, entry);
    }
    entry.values[key] = value;
  }

  status(write: StatusWrite): void {
    this.statuses.set(refKey(write.ref), write);
  }

  poolStatus(ref: ObjectRef & { readonly kind: 'IPPool' }, status: IPPoolStatus): void {
    this.status({ ref, status });
  }

  problem(ref: ObjectRef, reason: string, message: string): void {
    this.problems.set(`${refKey(ref)}\u0000${reason}\u0000${message}`, { ref, reason, message });
  }

  /** The step's writes; annotation patches with nothing left in them are dropped. */
  drain(): Writes {
    const annotations: AnnotationWrite[] = [];
    for (const { ref, values } of this.annotations.values()) {
      if (Object.keys(values).length === 0) continue;
      annotations.push({ ref, annotations: values, patch: { metadata: { annotations: values } } });
    }
    const out: Writes = {
      annotations,
      statuses: [...this.statuses.values()],
      problems: [...this.problems.values()],
    };
    this.annotations.clear();
    this.statuses.clear();
    this.problems.clear();
    return out;
  }
}

export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}
