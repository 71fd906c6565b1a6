import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Labels, matchesSelector, validateSelector } from './selector';
import type { LabelSelector, LabelSelectorRequirement } from './spec';
import { thrown } from './test-support';

const labels: Labels = { app: 'web', tier: 'frontend', env: 'prod' };

describe('matchesSelector operators', () => {
  const cases: ReadonlyArray<[string, LabelSelectorRequirement, boolean]> = [
    ['In with the value', { key: 'tier', operator: 'In', values: ['backend', 'frontend'] }, true],
    ['In with another value', { key: 'tier', operator: 'In', values: ['backend'] }, false],
    ['In with the key absent', { key: 'zone', operator: 'In', values: ['a'] }, false],
    ['NotIn with the value', { key: 'tier', operator: 'NotIn', values: ['frontend'] }, false],
    ['NotIn with another value', { key: 'tier', operator: 'NotIn', values: ['backend'] }, true],
    ['NotIn with the key absent', { key: 'zone', operator: 'NotIn', values: ['a'] }, true],
    ['Exists with the key present', { key: 'app', operator: 'Exists' }, true],
    ['Exists with the key absent', { key: 'zone', operator: 'Exists' }, false],
    ['Exists with an empty values list', { key: 'app', operator: 'Exists', values: [] }, true],
    ['DoesNotExist with the key present', { key: 'app', operator: 'DoesNotExist' }, false],
    ['DoesNotExist with the key absent', { key: 'zone', operator: 'DoesNotExist' }, true],
  ];
  it.each(cases)('%s', (_name, requirement, expected) => {
    expect(matchesSelector({ matchExpressions: [requirement] }, labels)).toBe(expected);
  });

  it('matchLabels needs every pair to match', () => {
    expect(matchesSelector({ matchLabels: { app: 'web', env: 'prod' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'web', env: 'dev' } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { zone: '' } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { zone: '' } }, { zone: '' })).toBe(true);
  });

  it('matchLabels and matchExpressions are ANDed', () => {
    const both = (tier: string): LabelSelector => ({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: [tier] }],
    });
    expect(matchesSelector(both('frontend'), labels)).toBe(true);
    expect(matchesSelector(both('backend'), labels)).toBe(false);
    expect(matchesSelector(both('frontend'), { tier: 'frontend' })).toBe(false);
  });

  it('an empty selector matches everything, including no labels', () => {
    expect(matchesSelector({}, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
    expect(matchesSelector({})).toBe(true);
  });

  it('inherited object properties are not labels', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {})).toBe(
      false,
    );
    expect(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] }, {})).toBe(
      true,
    );
  });

  it('accepts qualified keys with a DNS prefix', () => {
    const sel: LabelSelector = {
      matchExpressions: [{ key: 'node-role.kubernetes.io/master', operator: 'Exists' }],
    };
    expect(matchesSelector(sel, { 'node-role.kubernetes.io/master': '' })).toBe(true);
    expect(matchesSelector(sel, { master: '' })).toBe(false);
  });
});

describe('invalid selectors', () => {
  const bad: ReadonlyArray<[string, unknown, string]> = [
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In' }] }, 'matchExpressions[0]'],
    [
      'NotIn with an empty list',
      {
        matchExpressions: [
          { key: 'a', operator: 'Exists' },
          { key: 'b', operator: 'NotIn', values: [] },
        ],
      },
      'matchExpressions[1]',
    ],
    [
      'Exists with values',
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      'matchExpressions[0]',
    ],
    [
      'DoesNotExist with values',
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] },
      'matchExpressions[0]',
    ],
    ['an unknown operator', { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, '"Gt"'],
    ['a key with a space', { matchExpressions: [{ key: 'bad key', operator: 'Exists' }] }, '"bad key"'],
    ['an empty key', { matchExpressions: [{ key: '', operator: 'Exists' }] }, 'matchExpressions[0]'],
    ['a key with two slashes', { matchLabels: { 'a/b/c': 'x' } }, 'matchLabels["a/b/c"]'],
    ['an uppercase key prefix', { matchLabels: { 'Example.com/a': 'x' } }, 'matchLabels["Example.com/a"]'],
    ['a bad matchLabels value', { matchLabels: { app: 'no spaces' } }, 'matchLabels["app"]'],
    ['a value of 64 characters', { matchLabels: { app: 'a'.repeat(64) } }, 'matchLabels["app"]'],
    [
      'a bad expression value',
      { matchExpressions: [{ key: 'app', operator: 'In', values: ['ok', '-bad'] }] },
      '"-bad"',
    ],
    ['matchExpressions that is not a list', { matchExpressions: { key: 'a' } }, 'matchExpressions'],
    ['a selector that is not an object', 'app=web', 'selector'],
  ];
  it.each(bad)('%s throws INVALID_SELECTOR naming the requirement', (_name, selector, named) => {
    const err = thrown(() => validateSelector(selector as LabelSelector));
    expect(err.code).toBe('INVALID_SELECTOR');
    expect(err.message).toContain(named);
    expect(thrown(() => matchesSelector(selector as LabelSelector, {})).code).toBe('INVALID_SELECTOR');
  });

  it('names the index and the whole requirement', () => {
    const err = thrown(() =>
      validateSelector({
        matchExpressions: [
          { key: 'a', operator: 'Exists' },
          { key: 'tier', operator: 'In', values: [] },
        ],
      }),
    );
    expect(err.message).toBe(
      'invalid label selector: matchExpressions[1] {"key":"tier","operator":"In","values":[]}: In needs at least one value',
    );
    expect(err.details.index).toBe(1);
  });

  it('validates even when an earlier requirement already fails to match', () => {
    const sel = {
      matchLabels: { app: 'other' },
      matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }],
    } as LabelSelector;
    expect(thrown(() => matchesSelector(sel, labels)).code).toBe('INVALID_SELECTOR');
  });

  it('accepts valid selectors', () => {
    expect(() =>
      validateSelector({
        matchLabels: { 'example.com/app': 'web', empty: '' },
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x'] },
          { key: 'b', operator: 'NotIn', values: ['y', 'z'] },
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist', values: [] },
        ],
      }),
    ).not.toThrow();
  });
});

const labelKey = fc.constantFrom('app', 'tier', 'env', 'zone', 'example.com/role');
const labelValue = fc.constantFrom('', 'a', 'b', 'web', 'prod');
const labelSet = fc.dictionary(labelKey, labelValue, { maxKeys: 5 });
const values = fc.uniqueArray(labelValue, { minLength: 1, maxLength: 3 });

describe('selector properties', () => {
  it('an empty selector matches every label set', () => {
    fc.assert(
      fc.property(labelSet, (ls) => {
        expect(matchesSelector({}, ls)).toBe(true);
        expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, ls)).toBe(true);
      }),
    );
  });

  it('when the key exists, NotIn is the negation of In', () => {
    fc.assert(
      fc.property(labelSet, labelKey, labelValue, values, (ls, key, value, vs) => {
        const withKey = { ...ls, [key]: value };
        const isIn = matchesSelector({ matchExpressions: [{ key, operator: 'In', values: vs }] }, withKey);
        const notIn = matchesSelector(
          { matchExpressions: [{ key, operator: 'NotIn', values: vs }] },
          withKey,
        );
        expect(notIn).toBe(!isIn);
        expect(isIn).toBe(vs.includes(value));
      }),
    );
  });

  it('when the key is absent, In fails and NotIn holds', () => {
    fc.assert(
      fc.property(labelSet, labelKey, values, (ls, key, vs) => {
        const without: Record<string, string> = { ...ls };
        delete without[key];
        expect(matchesSelector({ matchExpressions: [{ key, operator: 'In', values: vs }] }, without)).toBe(
          false,
        );
        expect(matchesSelector({ matchExpressions: [{ key, operator: 'NotIn', values: vs }] }, without)).toBe(
          true,
        );
      }),
    );
  });

  it('Exists and DoesNotExist are each other’s negation and track key presence', () => {
    fc.assert(
      fc.property(labelSet, labelKey, (ls, key) => {
        const exists = matchesSelector({ matchExpressions: [{ key, operator: 'Exists' }] }, ls);
        const absent = matchesSelector({ matchExpressions: [{ key, operator: 'DoesNotExist' }] }, ls);
        expect(exists).toBe(key in ls);
        expect(absent).toBe(!exists);
      }),
    );
  });

  it('a conjunction matches exactly when each part matches alone', () => {
    const requirement = fc.oneof(
      fc.record({ key: labelKey, operator: fc.constantFrom('In' as const, 'NotIn' as const), values }),
      fc.record({ key: labelKey, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(labelKey, labelValue, { maxKeys: 2 }),
        fc.array(requirement, { maxLength: 4 }),
        labelSet,
        (matchLabels, matchExpressions, ls) => {
          const whole = matchesSelector({ matchLabels, matchExpressions }, ls);
          const parts =
            Object.entries(matchLabels).every(([k, v]) => matchesSelector({ matchLabels: { [k]: v } }, ls)) &&
            matchExpressions.every((r) => matchesSelector({ matchExpressions: [r] }, ls));
          expect(whole).toBe(parts);
        },
      ),
    );
  });
});
