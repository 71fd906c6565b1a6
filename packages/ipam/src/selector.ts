import { IpamError, show } from './errors';
import type { LabelSelector, LabelSelectorRequirement } from './spec';

/** The labels of a Kubernetes object (pod, node, namespace). */
export type Labels = Readonly<Record<string, string>>;

/** A validated selector, ready to test label sets. */
type Matcher = (labels: Labels) => boolean;

const OPERATORS: ReadonlySet<string> = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
// Kubernetes validation (apimachinery IsQualifiedName / IsValidLabelValue).
const NAME_PART = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `the key must be a string, got ${show(key)}`;
  const parts = key.split('/');
  if (parts.length > 2) return `key ${show(key)} has more than one '/'`;
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0) return `key ${show(key)} has an empty prefix before '/'`;
    if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `key prefix ${show(prefix)} is not a DNS subdomain (lowercase, at most 253 characters)`;
    }
  }
  if (name.length === 0) return `key ${show(key)} has an empty name`;
  if (name.length > 63) return `key name ${show(name)} is longer than 63 characters`;
  if (!NAME_PART.test(name)) {
    return `key name ${show(name)} must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

function valueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `value ${show(value)} is not a string`;
  if (value.length === 0) return undefined;
  if (value.length > 63) return `value ${show(value)} is longer than 63 characters`;
  if (!NAME_PART.test(value)) {
    return `value ${show(value)} must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

function requirementProblem(req: LabelSelectorRequirement): string | undefined {
  if (typeof req !== 'object' || req === null) return 'a requirement must be an object';
  const k = keyProblem(req.key);
  if (k !== undefined) return k;
  if (!OPERATORS.has(req.operator)) {
    return `operator ${show(req.operator)} is not one of In, NotIn, Exists, DoesNotExist`;
  }
  const values: unknown = req.values;
  if (values !== undefined && !Array.isArray(values)) return `values must be a list, got ${show(values)}`;
  const count = values === undefined ? 0 : values.length;
  if ((req.operator === 'In' || req.operator === 'NotIn') && count === 0) {
    return `${req.operator} needs at least one value`;
  }
  if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && count !== 0) {
    return `${req.operator} must have no values`;
  }
  for (const v of (values ?? []) as readonly unknown[]) {
    const p = valueProblem(v);
    if (p !== undefined) return p;
  }
  return undefined;
}

function has(labels: Labels, key: string): boolean {
  return Object.hasOwn(labels, key);
}

function requirementMatcher(req: LabelSelectorRequirement): Matcher {
  const key = req.key;
  const values = new Set(req.values ?? []);
  switch (req.operator) {
    case 'In':
      return (labels) => has(labels, key) && values.has(labels[key]!);
    case 'NotIn':
      // Kubernetes: NotIn also matches objects that lack the key.
      return (labels) => !has(labels, key) || !values.has(labels[key]!);
    case 'Exists':
      return (labels) => has(labels, key);
    case 'DoesNotExist':
      return (labels) => !has(labels, key);
  }
}

/**
 * @internal Validate a selector and turn it into a matcher. `where` ("pool \"p1\" nodeAffinity") prefixes
 * the error message. Throws IpamError INVALID_SELECTOR naming the offending requirement.
 */
export function compileSelector(selector: LabelSelector, where = 'label selector'): Matcher {
  const fail = (requirement: string, reason: string, extra: Record<string, unknown>): IpamError =>
    new IpamError('INVALID_SELECTOR', `invalid ${where}: ${requirement}: ${reason}`, {
      requirement,
      reason,
      ...extra,
    });
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
    throw fail('selector', `must be an object, got ${show(selector)}`, { value: selector });
  }
  const matchers: Matcher[] = [];
  const matchLabels: unknown = selector.matchLabels;
  if (matchLabels !== undefined) {
    if (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels)) {
      throw fail('matchLabels', `must be a map of strings, got ${show(matchLabels)}`, { value: matchLabels });
    }
    for (const [key, value] of Object.entries(matchLabels)) {
      const problem = keyProblem(key) ?? valueProblem(value);
      if (problem !== undefined) {
        throw fail(`matchLabels[${show(key)}]`, problem, { value: { [key]: value } });
      }
      // A matchLabels entry is the requirement `key In [value]`.
      matchers.push(requirementMatcher({ key, operator: 'In', values: [value as string] }));
    }
  }
  const expressions: unknown = selector.matchExpressions;
  if (expressions !== undefined) {
    if (!Array.isArray(expressions)) {
      throw fail('matchExpressions', `must be a list, got ${show(expressions)}`, { value: expressions });
    }
    expressions.forEach((req: LabelSelectorRequirement, index) => {
      const problem = requirementProblem(req);
      if (problem !== undefined) {
        throw fail(`matchExpressions[${index}] ${show(req)}`, problem, { value: req, index });
      }
      matchers.push(requirementMatcher(req));
    });
  }
  return (labels) => matchers.every((m) => m(labels));
}

/**
 * Check a Kubernetes label selector the way the API server does: In/NotIn need values, Exists/DoesNotExist
 * take none, keys are qualified names and values label values. Throws IpamError INVALID_SELECTOR naming the
 * offending requirement.
 */
export function validateSelector(selector: LabelSelector): void {
  compileSelector(selector);
}

/**
 * True when the labels satisfy every matchLabels entry and every matchExpressions requirement (Kubernetes
 * semantics; an empty selector matches everything). Throws IpamError INVALID_SELECTOR for an invalid selector.
 */
export function matchesSelector(selector: LabelSelector, labels: Labels = {}): boolean {
  return compileSelector(selector)(labels);
}
