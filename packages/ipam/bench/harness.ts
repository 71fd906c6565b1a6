// Tiny benchmark helpers: wall time with a warm-up, heap figures after a forced GC, and a result table.

export interface Row {
  readonly case: string;
  readonly value: string;
  readonly baseline?: string;
  readonly ratio?: string;
  readonly target?: string;
  readonly met?: boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Bytes in use (JS heap + array buffers) after a full GC. Needs node --expose-gc. */
export function usedBytes(): number {
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A full GC (with --expose-gc), so a timed run does not pay for the garbage of the run before it. */
export function collect(): void {
  gc?.();
}

/** Milliseconds taken by fn (one run), starting from a collected heap. */
export function timeMs(fn: () => void): number {
  collect();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Best of `runs` runs, in milliseconds: the least disturbed by other work on a noisy machine. */
export function bestMs(runs: number, setup: () => void, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    setup();
    best = Math.min(best, timeMs(fn));
  }
  return best;
}

export function fmtRate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k/s`;
  return `${opsPerSec.toFixed(0)} /s`;
}

export function fmtNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

export function fmtBytes(b: number): string {
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`;
  return `${b.toFixed(0)} B`;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same work. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Owner keys shaped like pod UIDs, as flat strings (as JSON.parse would give them from the API server). */
export function podUids(n: number, seed = 1): string[] {
  const r = rng(seed);
  const hex = (len: number) => {
    let s = '';
    for (let i = 0; i < len; i++) s += ((r() * 16) | 0).toString(16);
    return s;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
  return JSON.parse(JSON.stringify(out)) as string[];
}

export function printTable(title: string, rows: readonly Row[]): void {
  const head = ['case', 'result', 'baseline (same run)', 'ratio', 'target', ''];
  const body = rows.map((r) => [
    r.case,
    r.value,
    r.baseline ?? '',
    r.ratio ?? '',
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n## ${title}\n`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
  if (rows.some((r) => r.ratio !== undefined && r.ratio !== '')) {
    console.log(
      '\nratio: above 1 is better than the same-run baseline (faster, more throughput, fewer rules).',
    );
  }
}
