import { describe, expect, it } from 'vitest';
import type { MtuResult } from '../../e2e/kernel';
import { mtuPassed, renderMtuText } from './format';

const result = (over: Partial<MtuResult['overByOne']>, largestOk = true): MtuResult => ({
  planned: 1440,
  limitedBy: 'wireguard',
  largest: { ok: largestOk, output: '' },
  overByOne: { ok: false, output: '', reportedMtu: 1440, ...over },
});

describe('the demo MTU verdict', () => {
  it('passes only when the planned size replies and one more is refused naming exactly the planned MTU', () => {
    expect(mtuPassed(result({}))).toBe(true);
    expect(renderMtuText(result({}))).toContain('refused: mtu 1440');
  });

  it('fails when the refusal names another MTU, when nothing is reported, or when a size misbehaves', () => {
    expect(mtuPassed(result({ reportedMtu: 1420 }))).toBe(false);
    expect(renderMtuText(result({ reportedMtu: 1420 }))).toContain('refused: mtu 1420, but 1440 was planned');
    expect(mtuPassed(result({ reportedMtu: null }))).toBe(false);
    expect(renderMtuText(result({ reportedMtu: null }))).toContain('dropped without an error');
    expect(mtuPassed(result({ ok: true }))).toBe(false);
    expect(mtuPassed(result({}, false))).toBe(false);
    expect(renderMtuText(result({ reportedMtu: 1420 }))).toContain('MTU check: FAIL');
  });
});
