import { describe, expect, it } from 'vitest';
import { formatTable } from './table';

describe('formatTable', () => {
  it('pads every column to its widest cell, rules the header, trims line ends', () => {
    const out = formatTable(['a', 'bb', 'c'], [['xxx', 'y', ''], ['1']]);
    expect(out).toBe(['  a    bb  c', '  ───  ──  ─', '  xxx  y', '  1'].join('\n'));
  });

  it('right-aligns the columns asked for and counts "→" as one column', () => {
    const out = formatTable(
      ['n', 'to'],
      [
        ['5', 'a → b'],
        ['123', 'c'],
      ],
      { align: ['right', 'left'], indent: '' },
    );
    expect(out.split('\n')).toEqual(['  n  to', '───  ─────', '  5  a → b', '123  c']);
  });
});
