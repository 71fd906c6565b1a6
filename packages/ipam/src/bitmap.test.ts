import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DenseBitmap } from './bitmap';

/** The naive model: one boolean per offset. */
class NaiveSpace {
  readonly allocatable: boolean[];
  readonly taken: boolean[];
  constructor(readonly span: number) {
    this.allocatable = new Array<boolean>(span).fill(false);
    this.taken = new Array<boolean>(span).fill(false);
  }
  isFree(o: number): boolean {
    return this.allocatable[o]! && !this.taken[o]!;
  }
  free(): number[] {
    return Array.from({ length: this.span }, (_, o) => o).filter((o) => this.isFree(o));
  }
  lowestRun(n: number): number {
    let run = 0;
    for (let o = 0; o < this.span; o++) {
      run = this.isFree(o) ? run + 1 : 0;
      if (run === n) return o - n + 1;
    }
    return -1;
  }
  runs(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let o = 0; o < this.span; o++) {
      if (!this.isFree(o)) continue;
      const last = out[out.length - 1];
      if (last && last[1] === o - 1) last[1] = o;
      else out.push([o, o]);
    }
    return out;
  }
}

type Op =
  | { kind: 'takeLowest' }
  | { kind: 'takeRun'; n: number }
  | { kind: 'peekRun'; n: number }
  | { kind: 'takeAt'; pick: number }
  | { kind: 'release'; pick: number };

const runLength = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 80 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'takeLowest' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('takeRun' as const), n: runLength }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('peekRun' as const), n: runLength }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('takeAt' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
);

/** A span (power of two) with free ranges inside it, possibly overlapping. */
const space = fc.constantFrom(1, 2, 4, 32, 64, 128, 256, 2048, 4096).chain((span) =>
  fc.record({
    span: fc.constant(span),
    ranges: fc.array(
      fc
        .tuple(fc.nat(span - 1), fc.integer({ min: 1, max: Math.min(span, 100) }))
        .map(([from, len]) => [from, Math.min(span - 1, from + len - 1)] as [number, number]),
      { minLength: 1, maxLength: 6 },
    ),
  }),
);

function checkState(bm: DenseBitmap, model: NaiveSpace): void {
  const free = model.free();
  expect(bm.free).toBe(free.length);
  expect(bm.freeRuns()).toEqual(model.runs());
  const chunks = new Array<number>(bm.chunkFree.length).fill(0);
  for (const o of free) chunks[o >>> 10]!++;
  expect(Array.from(bm.chunkFree)).toEqual(chunks);
}

describe('DenseBitmap against a naive array', () => {
  it('lowestFree and lowestRun return the naive lowest free offset / run after any takes and releases', () => {
    fc.assert(
      fc.property(space, fc.array(op, { maxLength: 120 }), ({ span, ranges }, ops) => {
        const bm = new DenseBitmap(span);
        const model = new NaiveSpace(span);
        for (const [from, to] of ranges) {
          bm.setFreeRange(from, to);
          for (let o = from; o <= to; o++) model.allocatable[o] = true;
        }
        checkState(bm, model);
        for (const o of ops) {
          switch (o.kind) {
            case 'takeLowest': {
              const got = bm.lowestFree();
              expect(got).toBe(model.lowestRun(1));
              if (got >= 0) {
                bm.take(got);
                model.taken[got] = true;
              }
              break;
            }
            case 'takeRun':
            case 'peekRun': {
              const got = bm.lowestRun(o.n);
              expect(got, `lowestRun(${o.n})`).toBe(model.lowestRun(o.n));
              if (got >= 0 && o.kind === 'takeRun') {
                for (let i = 0; i < o.n; i++) {
                  bm.take(got + i);
                  model.taken[got + i] = true;
                }
              }
              break;
            }
            case 'takeAt': {
              // An out-of-order take, as reserve does.
              const free = model.free();
              if (free.length === 0) break;
              const at = free[o.pick % free.length]!;
              bm.take(at);
              model.taken[at] = true;
              break;
            }
            case 'release': {
              const taken = model.taken.flatMap((t, i) => (t ? [i] : []));
              if (taken.length === 0) break;
              const at = taken[o.pick % taken.length]!;
              bm.release(at);
              model.taken[at] = false;
              break;
            }
          }
          checkState(bm, model);
        }
        for (let o = 0; o < span; o++) expect(bm.isFree(o)).toBe(model.isFree(o));
      }),
      { numRuns: 300 },
    );
  });

  it('a new space has nothing free until setFreeRange opens it, and bits past the span never open', () => {
    const bm = new DenseBitmap(4);
    expect([bm.free, bm.lowestFree(), bm.lowestRun(2)]).toEqual([0, -1, -1]);
    bm.setFreeRange(0, 3);
    expect(bm.free).toBe(4);
    expect(bm.freeRuns()).toEqual([[0, 3]]);
    expect(bm.lowestRun(4)).toBe(0);
    expect(bm.lowestRun(5)).toBe(-1);
    bm.setFreeRange(1, 2);
    expect(bm.free).toBe(4);
  });

  it('finds a run that spans whole words and chunks, and skips full chunks', () => {
    const span = 4096;
    const bm = new DenseBitmap(span);
    bm.setFreeRange(0, span - 1);
    for (let o = 0; o < 3000; o++) bm.take(o);
    bm.release(5);
    bm.release(40);
    expect(bm.lowestFree()).toBe(5);
    expect(bm.lowestRun(2)).toBe(3000);
    expect(bm.lowestRun(1096)).toBe(3000);
    expect(bm.lowestRun(1097)).toBe(-1);
    bm.take(5);
    bm.take(40);
    expect(bm.lowestFree()).toBe(3000);
    for (let o = 1000; o < 1100; o++) bm.release(o);
    expect(bm.lowestRun(100)).toBe(1000);
    expect(bm.lowestRun(101)).toBe(3000);
    expect(bm.lowestFree()).toBe(1000);
    expect(Array.from(bm.chunkFree)).toEqual([24, 76, 72, 1024]);
  });

  it('a run found before a release is not stale after it: released addresses below the hint are found', () => {
    const bm = new DenseBitmap(128);
    bm.setFreeRange(0, 127);
    for (let o = 0; o < 100; o++) bm.take(o);
    expect(bm.lowestRun(3)).toBe(100);
    for (const o of [100, 101, 102]) bm.take(o);
    bm.release(30);
    bm.release(31);
    bm.release(32);
    expect(bm.lowestRun(3)).toBe(30);
    expect(bm.lowestRun(4)).toBe(103);
    expect(bm.lowestFree()).toBe(30);
  });
});
