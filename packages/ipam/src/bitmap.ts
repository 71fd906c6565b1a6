// The dense address space of a pool: one bit per address of the subnet (1 = not free: allocated or
// not allocatable) plus a free count per chunk of 1024 addresses. A count per 32-bit word would cost
// 0.25 bits per address; per chunk it costs 0.016, which keeps a /8 pool within 1.1 bits per address.

const CHUNK_SHIFT = 5; // words per chunk = 32, addresses per chunk = 1024
const FULL = 0xffff_ffff;

/** Index of the lowest set bit of a non-zero 32-bit value. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Bits p of `free` (1 = free) such that bits p..p+n-1 are all free, for 1 <= n <= 32. */
function runStarts(free: number, n: number): number {
  let y = free;
  let len = 1;
  // Doubling: y has bit p set iff bits p..p+len-1 are free.
  while (len * 2 <= n) {
    y &= y >>> len;
    len *= 2;
  }
  if (len < n) y &= y >>> (n - len);
  return y >>> 0;
}

export class DenseBitmap {
  readonly span: number;
  readonly words: Uint32Array;
  readonly chunkFree: Uint16Array;
  /** Addresses that are free now. */
  free = 0;
  /** No free address below this offset. */
  private hint = 0;
  /** Per block length n: no free run of n addresses starts below this offset. */
  private readonly runHints = new Map<number, number>();

  /** A space of `span` addresses (a power of two), all not free until `setFreeRange` opens them. */
  constructor(span: number) {
    this.span = span;
    const nWords = Math.max(1, Math.ceil(span / 32));
    this.words = new Uint32Array(nWords).fill(FULL);
    this.chunkFree = new Uint16Array(Math.ceil(nWords / 32));
  }

  /** Mark [from, to] (inclusive offsets) free; used while building the pool. */
  setFreeRange(from: number, to: number): void {
    for (let o = from; o <= to; ) {
      const w = o >>> 5;
      const bit = o & 31;
      const n = Math.min(32 - bit, to - o + 1);
      const m = n === 32 ? FULL : ((2 ** n - 1) * 2 ** bit) >>> 0;
      const before = this.words[w]!;
      const after = (before & ~m) >>> 0;
      const opened = popcount(before) - popcount(after);
      this.words[w] = after;
      this.chunkFree[w >>> CHUNK_SHIFT]! += opened;
      this.free += opened;
      o += n;
    }
    this.hint = 0;
    this.runHints.clear();
  }

  isFree(o: number): boolean {
    return (this.words[o >>> 5]! & (1 << (o & 31))) === 0;
  }

  /** Mark a free address taken. */
  take(o: number): void {
    const w = o >>> 5;
    this.words[w] = (this.words[w]! | (1 << (o & 31))) >>> 0;
    this.chunkFree[w >>> CHUNK_SHIFT]!--;
    this.free--;
  }

  /** Mark a taken address free again. */
  release(o: number): void {
    const w = o >>> 5;
    this.words[w] = (this.words[w]! & ~(1 << (o & 31))) >>> 0;
    this.chunkFree[w >>> CHUNK_SHIFT]!++;
    this.free++;
    if (o < this.hint) this.hint = o;
    if (this.runHints.size !== 0) this.lowerRunHints(o);
  }

  private lowerRunHints(o: number): void {
    for (const [n, h] of this.runHints) {
      const start = o - n + 1;
      if (start < h) this.runHints.set(n, Math.max(start, 0));
    }
  }

  /** Take the lowest free offset and return it, or -1 when none is free. */
  takeLowest(): number {
    // Fast path, small enough to inline: the word at the hint has a free bit, and the bits below the
    // hint in that word are taken, so the lowest free bit of the word is the lowest free offset.
    // The hint is always below the span, so the word exists.
    const w = this.hint >>> 5;
    const word = this.words[w]!;
    const o = word !== FULL ? w * 32 + ctz(~word) : this.lowestFree();
    if (o >= 0) this.take(o);
    return o;
  }

  /** The lowest free offset, or -1. Does not take it. */
  lowestFree(): number {
    if (this.free === 0) return -1;
    const { words, chunkFree } = this;
    let w = this.hint >>> 5;
    // The hint is a lower bound: bits below it in its word are taken, so the word needs no mask.
    while (w < words.length) {
      if ((w & 31) === 0) {
        // At a chunk boundary: skip whole chunks without free addresses.
        let c = w >>> CHUNK_SHIFT;
        while (c < chunkFree.length && chunkFree[c] === 0) c++;
        if (c === chunkFree.length) break;
        w = c << CHUNK_SHIFT;
      }
      const word = words[w]!;
      if (word !== FULL) {
        const o = w * 32 + ctz(~word);
        this.hint = o;
        return o;
      }
      w++;
    }
    return -1;
  }

  /** The lowest offset starting n consecutive free addresses, or -1. Does not take them. */
  lowestRun(n: number): number {
    if (n === 1) return this.lowestFree();
    if (this.free < n) return -1;
    const { words } = this;
    const from = Math.max(this.runHints.get(n) ?? 0, this.hint);
    let w = from >>> 5;
    // Bits below `from` in the first word count as taken.
    const lowMask = (from & 31) === 0 ? 0 : (FULL >>> (32 - (from & 31))) >>> 0;
    let run = 0; // free addresses ending just below word w
    for (let first = true; w < words.length; w++, first = false) {
      const word = first ? (words[w]! | lowMask) >>> 0 : words[w]!;
      if (word === FULL) {
        run = 0;
        continue;
      }
      if (word === 0) {
        run += 32;
        if (run >= n) return this.foundRun(w * 32 + 32 - run, n);
        continue;
      }
      const lowFree = ctz(word);
      if (run + lowFree >= n) return this.foundRun(w * 32 - run, n);
      if (n <= 32) {
        const starts = runStarts(~word >>> 0, n);
        if (starts !== 0) return this.foundRun(w * 32 + ctz(starts), n);
      }
      run = Math.clz32(word);
    }
    this.runHints.set(n, this.span);
    return -1;
  }

  private foundRun(o: number, n: number): number {
    this.runHints.set(n, o);
    return o;
  }

  /** Free runs as inclusive [from, to] offsets, in order. */
  freeRuns(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let start = -1;
    const { words } = this;
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      if (word === FULL) {
        if (start >= 0) out.push([start, w * 32 - 1]);
        start = -1;
        continue;
      }
      if (word === 0) {
        if (start < 0) start = w * 32;
        continue;
      }
      for (let b = 0; b < 32; b++) {
        const isFree = (word & (1 << b)) === 0;
        if (isFree && start < 0) start = w * 32 + b;
        else if (!isFree && start >= 0) {
          out.push([start, w * 32 + b - 1]);
          start = -1;
        }
      }
    }
    if (start >= 0) out.push([start, Math.min(words.length * 32, this.span) - 1]);
    return out;
  }

  byteSize(): number {
    return this.words.byteLength + this.chunkFree.byteLength;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
