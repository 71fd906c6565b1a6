import { describe, expect, it } from 'vitest';
import { progressLine } from './progress';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { out: { isTTY, write: (t: string) => chunks.push(t) }, chunks };
}

describe('progressLine', () => {
  it('writes one plain line per step with the time since start when stderr is not a terminal', () => {
    const { out, chunks } = sink(false);
    let t = 1000;
    const p = progressLine(out, () => t);
    p.step('creating namespaces');
    t = 3500;
    p.step('tearing down');
    p.clear();
    expect(chunks).toEqual(['[  0.0 s] creating namespaces\n', '[  2.5 s] tearing down\n']);
  });

  it('rewrites a single line on a terminal and erases it on clear', () => {
    const { out, chunks } = sink(true);
    const p = progressLine(out, () => 0);
    p.step('a');
    p.step('b');
    p.clear();
    expect(chunks).toEqual(['\r\x1b[2K[  0.0 s] a …', '\r\x1b[2K[  0.0 s] b …', '\r\x1b[2K']);
    expect(chunks.join('')).not.toContain('\n');
  });
});
