// The sparse address space of a large pool (an IPv6 /64, an IPv4 shorter than /8): memory grows with
// what is allocated, never with the subnet. Offsets inside the pool are 64-bit, held as two uint32
// halves (hi, lo). Free addresses below a high-water mark sit in a min-heap; above it everything
// allocatable is free except what `reserve` took out of order (found in the shared taken map).

import type { PairMap } from './hashing';

function lessThan(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}

function toBig(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Min-heap of 64-bit offsets. */
class PairHeap {
  hi: number[] = [];
  lo: number[] = [];

  get length(): number {
    return this.hi.length;
  }

  push(hi: number, lo: number): void {
    const H = this.hi;
    const L = this.lo;
    let i = H.length;
    H.push(hi);
    L.push(lo);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!lessThan(hi, lo, H[p]!, L[p]!)) break;
      H[i] = H[p]!;
      L[i] = L[p]!;
      i = p;
    }
    H[i] = hi;
    L[i] = lo;
  }

  pop(): void {
    const H = this.hi;
    const L = this.lo;
    const lastHi = H.pop()!;
    const lastLo = L.pop()!;
    const n = H.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && lessThan(H[c + 1]!, L[c + 1]!, H[c]!, L[c]!)) c++;
      if (!lessThan(H[c]!, L[c]!, lastHi, lastLo)) break;
      H[i] = H[c]!;
      L[i] = L[c]!;
      i = c;
    }
    H[i] = lastHi;
    L[i] = lastLo;
  }
}

export class SparseSpace {
  // Allocatable ranges of offsets, inclusive, sorted, disjoint.
  private readonly rStartHi: number[] = [];
  private readonly rStartLo: number[] = [];
  private readonly rEndHi: number[] = [];
  private readonly rEndLo: number[] = [];
  private readonly rangesBig: ReadonlyArray<readonly [bigint, bigint]>;
  readonly total: bigint;
  private takenCount = 0;
  private hwmHi = 0;
  private hwmLo = 0;
  private hwmRange = 0;
  private readonly heap = new PairHeap();
  outHi = 0;
  outLo = 0;

  constructor(
    ranges: ReadonlyArray<readonly [bigint, bigint]>,
    private readonly taken: PairMap,
  ) {
    this.rangesBig = ranges;
    let total = 0n;
    for (const [a, b] of ranges) {
      this.rStartHi.push(Number(a >> 32n));
      this.rStartLo.push(Number(a & 0xffff_ffffn));
      this.rEndHi.push(Number(b >> 32n));
      this.rEndLo.push(Number(b & 0xffff_ffffn));
      total += b - a + 1n;
    }
    this.total = total;
    if (ranges.length > 0) {
      this.hwmHi = this.rStartHi[0]!;
      this.hwmLo = this.rStartLo[0]!;
    }
  }

  freeCount(): bigint {
    return this.total - BigInt(this.takenCount);
  }

  isAllocatable(hi: number, lo: number): boolean {
    // Binary search for the last range starting at or below the offset.
    let a = 0;
    let b = this.rStartHi.length - 1;
    let found = -1;
    while (a <= b) {
      const m = (a + b) >> 1;
      if (lessThan(hi, lo, this.rStartHi[m]!, this.rStartLo[m]!)) b = m - 1;
      else {
        found = m;
        a = m + 1;
      }
    }
    return found >= 0 && !lessThan(this.rEndHi[found]!, this.rEndLo[found]!, hi, lo);
  }

  /** Record that an allocatable, free offset is now taken (the caller updates the taken map). */
  countTaken(): void {
    this.takenCount++;
  }

  /** Record that a taken offset is free again (the caller has removed it from the taken map). */
  release(hi: number, lo: number): void {
    this.takenCount--;
    if (lessThan(hi, lo, this.hwmHi, this.hwmLo) || this.hwmRange >= this.rStartHi.length)
      this.heap.push(hi, lo);
  }

  /** Find the lowest free offset into (outHi, outLo) and count it taken; false when none. */
  takeLowest(): boolean {
    const heap = this.heap;
    while (heap.length > 0) {
      const hi = heap.hi[0]!;
      const lo = heap.lo[0]!;
      heap.pop();
      if (this.taken.get(hi, lo) < 0) {
        this.outHi = hi;
        this.outLo = lo;
        this.takenCount++;
        return true;
      }
    }
    while (this.hwmRange < this.rStartHi.length) {
      const hi = this.hwmHi;
      const lo = this.hwmLo;
      const r = this.hwmRange;
      // Advance the mark past this offset, moving to the next range at the end of this one.
      if (hi === this.rEndHi[r] && lo === this.rEndLo[r]) {
        this.hwmRange = r + 1;
        if (r + 1 < this.rStartHi.length) {
          this.hwmHi = this.rStartHi[r + 1]!;
          this.hwmLo = this.rStartLo[r + 1]!;
        } else if (lo === 0xffff_ffff) {
          this.hwmHi = hi + 1;
          this.hwmLo = 0;
        } else {
          this.hwmLo = lo + 1;
        }
      } else if (lo === 0xffff_ffff) {
        this.hwmHi = hi + 1;
        this.hwmLo = 0;
      } else {
        this.hwmLo = lo + 1;
      }
      if (this.taken.get(hi, lo) < 0) {
        this.outHi = hi;
        this.outLo = lo;
        this.takenCount++;
        return true;
      }
    }
    return false;
  }

  /**
   * Find the lowest run of n free offsets into (outHi, outLo) and count them taken; false when none.
   * Blocks on sparse pools are rare (egress blocks live in small IPv4 pools), so this path uses bigint.
   */
  takeLowestRun(n: number): boolean {
    if (this.freeCount() < BigInt(n)) return false;
    const free = (o: bigint) => this.isFreeBig(o);
    // Candidates below the mark: the valid heap entries, sorted.
    const below = new Set<bigint>();
    for (let i = 0; i < this.heap.length; i++) {
      const o = toBig(this.heap.hi[i]!, this.heap.lo[i]!);
      if (free(o)) below.add(o);
    }
    const sorted = [...below].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const hwm = this.hwmRange < this.rStartHi.length ? toBig(this.hwmHi, this.hwmLo) : -1n;
    let runStart = -1n;
    let runLen = 0;
    for (const o of sorted) {
      if (runLen > 0 && o === runStart + BigInt(runLen)) runLen++;
      else {
        runStart = o;
        runLen = 1;
      }
      if (runLen >= n) return this.takeRun(runStart, n);
    }
    if (hwm < 0n) return false;
    // Continue a run ending just below the mark into the region above it, then scan upwards.
    if (!(runLen > 0 && runStart + BigInt(runLen) === hwm)) {
      runStart = hwm;
      runLen = 0;
    }
    for (const [a, b] of this.rangesBig) {
      if (b < hwm) continue;
      let o = a > hwm ? a : hwm;
      if (o !== runStart + BigInt(runLen)) {
        runStart = o;
        runLen = 0;
      }
      for (; o <= b; o++) {
        if (free(o)) {
          if (runLen === 0) runStart = o;
          runLen++;
          if (runLen >= n) return this.takeRun(runStart, n);
        } else {
          runLen = 0;
        }
      }
    }
    return false;
  }

  private isFreeBig(o: bigint): boolean {
    const hi = Number(o >> 32n);
    const lo = Number(o & 0xffff_ffffn);
    return this.isAllocatable(hi, lo) && this.taken.get(hi, lo) < 0;
  }

  private takeRun(start: bigint, n: number): boolean {
    this.outHi = Number(start >> 32n);
    this.outLo = Number(start & 0xffff_ffffn);
    this.takenCount += n;
    // Offsets at or above the mark are taken out of order; the taken map (filled by the caller) covers them.
    return true;
  }

  /** Free runs as inclusive [from, to] bigint offsets, in order. */
  freeRuns(takenOffsets: Iterable<bigint>): Array<[bigint, bigint]> {
    const taken = [...takenOffsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: Array<[bigint, bigint]> = [];
    let t = 0;
    for (const [a, b] of this.rangesBig) {
      let cur = a;
      while (t < taken.length && taken[t]! < a) t++;
      while (t < taken.length && taken[t]! <= b) {
        if (taken[t]! > cur) out.push([cur, taken[t]! - 1n]);
        cur = taken[t]! + 1n;
        t++;
      }
      if (cur <= b) out.push([cur, b]);
    }
    return out;
  }
}
