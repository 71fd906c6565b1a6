// The minimal change list between two NAT plans, keyed the way the kernel objects are (a DNAT by its
// global IP, a set by its name): pod churn shows up as set element changes, not rule changes.
import { GlobalnetError, show } from './errors';
import type { GlobalnetNatPlan } from './nat-plan';
import type { RemapNatPlan } from './remap-nat';

export type NatSection =
  | 'plan'
  | 'localCidrs'
  | 'remoteGlobalCidrs'
  | 'ingress'
  | 'healthChecks'
  | 'podSets'
  | 'headlessPods'
  | 'headlessEndpoints'
  | 'namespaceSets'
  | 'cluster'
  | 'remapPeers';

export type NatChange =
  | { readonly op: 'add'; readonly section: NatSection; readonly key: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly section: NatSection; readonly key: string; readonly value: unknown }
  | {
      readonly op: 'replace';
      readonly section: NatSection;
      readonly key: string;
      readonly from: unknown;
      readonly to: unknown;
    }
  | {
      readonly op: 'add-elements' | 'remove-elements';
      readonly section: NatSection;
      /** The set's name. */
      readonly key: string;
      readonly elements: readonly string[];
    };

interface Entry {
  readonly key: string;
  readonly value: unknown;
  readonly elements?: readonly string[];
}

function sectionsOf(plan: GlobalnetNatPlan | RemapNatPlan): Map<NatSection, Entry[]> {
  const s = new Map<NatSection, Entry[]>();
  if (plan?.kind === 'globalnet') {
    s.set('plan', [
      { key: 'family', value: plan.family },
      { key: 'globalCidr', value: plan.globalCidr },
      { key: 'mark', value: plan.mark },
    ]);
    s.set(
      'localCidrs',
      plan.localCidrs.map((c) => ({ key: c, value: c })),
    );
    s.set(
      'remoteGlobalCidrs',
      plan.remoteGlobalCidrs.map((c) => ({ key: c, value: c })),
    );
    s.set(
      'ingress',
      plan.ingress.map((i) => ({ key: i.globalIp, value: i })),
    );
    s.set(
      'healthChecks',
      plan.healthChecks.map((h) => ({ key: h.globalIp, value: h })),
    );
    const sets = (l: GlobalnetNatPlan['egress']['pods']) =>
      l.map(({ elements, ...rest }) => ({ key: rest.set, value: rest, elements }));
    s.set('podSets', sets(plan.egress.pods));
    s.set(
      'headlessPods',
      plan.egress.headlessPods.map((h) => ({ key: h.source, value: h })),
    );
    s.set(
      'headlessEndpoints',
      plan.egress.headlessEndpoints.map((h) => ({ key: h.source, value: h })),
    );
    s.set('namespaceSets', sets(plan.egress.namespaces));
    s.set(
      'cluster',
      plan.egress.cluster.map((c) => ({ key: c.source, value: c })),
    );
  } else if (plan?.kind === 'remap') {
    s.set(
      'remapPeers',
      plan.peers.map((p) => ({ key: `${p.family}/${p.cluster}`, value: p })),
    );
  } else {
    const kind = (plan as { kind?: unknown } | null)?.kind;
    throw new GlobalnetError('INVALID_ARGUMENT', `diffNat needs NAT plans, got kind ${show(kind)}`, {
      value: kind,
    });
  }
  return s;
}

const ORDER: readonly NatSection[] = [
  'plan',
  'localCidrs',
  'remoteGlobalCidrs',
  'ingress',
  'healthChecks',
  'podSets',
  'headlessPods',
  'headlessEndpoints',
  'namespaceSets',
  'cluster',
  'remapPeers',
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The changes that turn plan `a` into plan `b`, section by section in plan order: removes, then adds and
 * replaces in `b`'s order, and set element changes for sets in both. Empty when the plans are equal.
 */
export function diffNat(a: GlobalnetNatPlan | RemapNatPlan, b: GlobalnetNatPlan | RemapNatPlan): NatChange[] {
  const sa = sectionsOf(a);
  const sb = sectionsOf(b);
  const out: NatChange[] = [];
  for (const section of ORDER) {
    const before = sa.get(section) ?? [];
    const after = sb.get(section) ?? [];
    const old = new Map(before.map((e) => [e.key, e]));
    const now = new Set(after.map((e) => e.key));
    for (const e of before)
      if (!now.has(e.key)) out.push({ op: 'remove', section, key: e.key, value: e.value });
    for (const e of after) {
      const o = old.get(e.key);
      if (o === undefined) {
        out.push({
          op: 'add',
          section,
          key: e.key,
          value: e.elements ? { ...(e.value as object), elements: e.elements } : e.value,
        });
        continue;
      }
      if (!same(o.value, e.value))
        out.push({ op: 'replace', section, key: e.key, from: o.value, to: e.value });
      if (e.elements !== undefined) {
        const had = new Set(o.elements);
        const has = new Set(e.elements);
        const removed = (o.elements ?? []).filter((x) => !has.has(x));
        const added = e.elements.filter((x) => !had.has(x));
        if (removed.length > 0) out.push({ op: 'remove-elements', section, key: e.key, elements: removed });
        if (added.length > 0) out.push({ op: 'add-elements', section, key: e.key, elements: added });
      }
    }
  }
  return out;
}
