// The same-run baseline of the /16 cycle, shared by ipam.bench.ts (wall time) and
// instructions.bench.ts (instructions counted by callgrind).
import { IPv4, IPv4CidrRange } from 'ip-num';
import { rng } from './harness';

/**
 * The baseline: a straightforward allocator built on ip-num, as the issue describes it — a Set of taken
 * addresses and a walk from a cursor to the next free one.
 */
export class IpNumAllocator {
  private readonly taken = new Set<bigint>();
  private readonly byOwner = new Map<string, bigint[]>();
  private readonly first: IPv4;
  private readonly last: IPv4;
  private cursor: IPv4;

  constructor(cidr: string) {
    const range = IPv4CidrRange.fromCidr(cidr);
    this.first = range.getFirst().nextIPNumber();
    this.last = new IPv4(range.getLast().getValue() - 1n);
    this.cursor = this.first;
  }

  allocate(owner: string): bigint {
    const held = this.byOwner.get(owner);
    if (held) return held[0]!;
    const span = Number(this.last.getValue() - this.first.getValue()) + 1;
    for (let i = 0; i < span; i++) {
      const v = this.cursor.getValue();
      this.cursor = v >= this.last.getValue() ? this.first : this.cursor.nextIPNumber();
      if (!this.taken.has(v)) {
        this.taken.add(v);
        this.byOwner.set(owner, [v]);
        return v;
      }
    }
    throw new Error('exhausted');
  }

  allocateBlock(owner: string, n: number): bigint[] {
    let run: bigint[] = [];
    for (let ip = this.first; ip.getValue() <= this.last.getValue(); ip = ip.nextIPNumber()) {
      if (this.taken.has(ip.getValue())) run = [];
      else if (run.push(ip.getValue()) === n) {
        for (const v of run) this.taken.add(v);
        this.byOwner.set(owner, run);
        return run;
      }
    }
    throw new Error('no block');
  }

  release(owner: string): void {
    for (const v of this.byOwner.get(owner) ?? []) this.taken.delete(v);
    this.byOwner.delete(owner);
  }
}

/** The first half of a seeded shuffle of 0..n-1: which owners the cycle releases. */
export function pseudoRandomHalf(n: number, seed: number): number[] {
  const r = rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n >> 1);
}
