import { RoutePlannerError } from './errors';
import {
  type Device,
  emptyPlan,
  KEY_OF,
  type MangleRule,
  type Plan,
  type PlanSection,
  SECTIONS,
} from './plan';

/**
 * The changes that turn one plan into another. `replace` holds entries the kernel can change in place
 * (routes: `ip route replace`, neighbours: `ip neigh replace`, existing links: `ip link set`); every other
 * change is a delete plus an add. Each part is itself a canonical plan.
 */
export interface PlanDiff {
  readonly delete: Plan;
  readonly replace: Plan;
  readonly add: Plan;
}

/** Sections whose entries change in place; for the others a changed entry is delete + add. */
const IN_PLACE: ReadonlySet<PlanSection> = new Set(['routes', 'neighbours', 'devices']);

/** Whether a device change can be done in place (an existing link's MAC) rather than delete + add. */
function deviceInPlace(a: Device, b: Device): boolean {
  return a.kind === 'link' && b.kind === 'link';
}

function chainOf(m: MangleRule): string {
  return `${m.family}|${m.chain}`;
}

type Keyed = Array<readonly [string, unknown]>;

function keyed(section: PlanSection, items: readonly unknown[]): Keyed {
  const key = KEY_OF[section] as (x: unknown) => string;
  const out: Keyed = items.map((item) => [key(item), item] as const);
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]![0] >= out[i]![0]) {
      out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      break;
    }
  }
  return out;
}

/** Entries of `plan` that live on a device (removed by the kernel together with it). */
function onDevice(section: PlanSection, item: unknown, dev: ReadonlySet<string>): boolean {
  if (item === undefined) return false;
  const d = (item as { dev?: string }).dev;
  return (
    section !== 'devices' && section !== 'rules' && section !== 'mangle' && d !== undefined && dev.has(d)
  );
}

/**
 * The minimal list of changes from `current` to `desired`: entries with equal identity and equal content
 * are left alone. Applying the result to `current` (applyDiff) yields `desired`. When a VXLAN or veth
 * device must be recreated, the entries on it are deleted and re-added too (the kernel drops them with it).
 */
export function diffPlan(current: Plan, desired: Plan): PlanDiff {
  const del: Record<string, unknown[]> = {};
  const rep: Record<string, unknown[]> = {};
  const add: Record<string, unknown[]> = {};
  const recreated = new Set<string>();
  for (const section of SECTIONS) {
    del[section] = [];
    rep[section] = [];
    add[section] = [];
    const a = keyed(section, current[section]);
    const b = keyed(section, desired[section]);
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const ka = i < a.length ? a[i]![0] : undefined;
      const kb = j < b.length ? b[j]![0] : undefined;
      if (kb === undefined || (ka !== undefined && ka < kb)) {
        del[section]!.push(a[i++]![1]);
      } else if (ka === undefined || kb < ka) {
        add[section]!.push(b[j++]![1]);
      } else {
        const x = a[i++]![1];
        const y = b[j++]![1];
        if (JSON.stringify(x) === JSON.stringify(y)) continue;
        if (section === 'devices' && !deviceInPlace(x as Device, y as Device)) {
          recreated.add((x as Device).name);
          del[section]!.push(x);
          add[section]!.push(y);
        } else if (IN_PLACE.has(section)) {
          rep[section]!.push(y);
        } else {
          del[section]!.push(x);
          add[section]!.push(y);
        }
      }
    }
  }
  // iptables evaluates a chain in order and -A appends: a changed chain is rewritten from its first rule.
  const touched = new Set([...del.mangle!, ...add.mangle!].map((m) => chainOf(m as MangleRule)));
  if (touched.size > 0) {
    del.mangle = current.mangle.filter((m) => touched.has(chainOf(m)));
    add.mangle = desired.mangle.filter((m) => touched.has(chainOf(m)));
  }
  if (recreated.size > 0) {
    // Entries on a recreated device vanish with it: delete them explicitly first and add them back after.
    for (const section of SECTIONS) {
      const delKeys = new Set(del[section]!.map(KEY_OF[section] as (x: unknown) => string));
      const addKeys = new Set(add[section]!.map(KEY_OF[section] as (x: unknown) => string));
      const key = KEY_OF[section] as (x: unknown) => string;
      const currentByKey = new Map(current[section].map((c) => [key(c), c] as const));
      const drop = (item: unknown) => {
        const k = key(item);
        if (!delKeys.has(k)) {
          delKeys.add(k);
          del[section]!.push(item);
        }
      };
      for (const item of current[section]) if (onDevice(section, item, recreated)) drop(item);
      const keep: unknown[] = [];
      for (const item of rep[section]!) {
        const old = currentByKey.get(key(item));
        if (onDevice(section, item, recreated) || onDevice(section, old, recreated)) {
          if (old !== undefined) drop(old);
          add[section]!.push(item);
          addKeys.add(key(item));
        } else keep.push(item);
      }
      rep[section] = keep;
      for (const item of desired[section]) {
        const k = (KEY_OF[section] as (x: unknown) => string)(item);
        if (onDevice(section, item, recreated) && !addKeys.has(k)) add[section]!.push(item);
      }
    }
  }
  return { delete: sortedPlan(del), replace: sortedPlan(rep), add: sortedPlan(add) };
}

function sortedPlan(parts: Record<string, unknown[]>): Plan {
  const out: Record<string, unknown[]> = {};
  for (const section of SECTIONS) out[section] = keyed(section, parts[section] ?? []).map(([, v]) => v);
  return out as unknown as Plan;
}

/** True when the diff changes nothing. */
export function isEmptyDiff(diff: PlanDiff): boolean {
  return SECTIONS.every(
    (s) => diff.delete[s].length === 0 && diff.replace[s].length === 0 && diff.add[s].length === 0,
  );
}

/** The number of entries a diff touches (deletes + replaces + adds). */
export function diffSize(diff: PlanDiff): number {
  let n = 0;
  for (const s of SECTIONS) n += diff.delete[s].length + diff.replace[s].length + diff.add[s].length;
  return n;
}

/**
 * Apply a diff to a plan as the kernel would: deletes, then replaces, then adds. Throws DUPLICATE_ENTRY
 * when an add meets an entry that is still there, and INVALID_ARGUMENT when a delete or replace names an
 * entry that is not.
 */
export function applyDiff(current: Plan, diff: PlanDiff): Plan {
  const out: Record<string, unknown[]> = {};
  for (const section of SECTIONS) {
    const key = KEY_OF[section] as (x: unknown) => string;
    const m = new Map<string, unknown>();
    for (const item of current[section]) m.set(key(item), item);
    for (const item of diff.delete[section]) {
      if (!m.delete(key(item))) {
        throw new RoutePlannerError(
          'INVALID_ARGUMENT',
          `cannot delete ${section} entry ${JSON.stringify(item)}: not present`,
          {
            section,
            item,
          },
        );
      }
    }
    for (const item of diff.replace[section]) {
      const k = key(item);
      if (!m.has(k)) {
        throw new RoutePlannerError(
          'INVALID_ARGUMENT',
          `cannot replace ${section} entry ${JSON.stringify(item)}: not present`,
          {
            section,
            item,
          },
        );
      }
      m.set(k, item);
    }
    for (const item of diff.add[section]) {
      const k = key(item);
      if (m.has(k)) {
        throw new RoutePlannerError(
          'DUPLICATE_ENTRY',
          `cannot add ${section} entry ${JSON.stringify(item)}: already present`,
          {
            section,
            item,
          },
        );
      }
      m.set(k, item);
    }
    out[section] = [...m.entries()]
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .map(([, v]) => v);
  }
  return out as unknown as Plan;
}

/** A diff that creates a plan from nothing. */
export function diffFromEmpty(plan: Plan): PlanDiff {
  return { delete: emptyPlan(), replace: emptyPlan(), add: plan };
}
