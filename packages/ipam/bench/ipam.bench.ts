// pnpm bench: @isthmus/ipam speed and memory, each figure next to a baseline measured in the same run.
import { IPv4, IPv4CidrRange, IPv6CidrRange } from 'ip-num';
import { DenseBitmap } from '../src/bitmap';
import { createPool, type Pool, type PoolSpec, parsePrefix, restorePool } from '../src/index';
import { IpNumAllocator, pseudoRandomHalf } from './baseline';
import {
  bestMs,
  collect,
  fmtBytes,
  fmtNs,
  fmtRate,
  podUids,
  printTable,
  type Row,
  rng,
  timeMs,
  usedBytes,
} from './harness';

const quick = process.env.BENCH_QUICK === '1';

interface Allocator {
  allocate(owner: string): unknown;
  release(owner: string): unknown;
}

type Fill = (a: Allocator, owners: readonly string[], from: number, to: number) => void;
type Drop = (a: Allocator, owners: readonly string[], half: readonly number[]) => void;

/**
 * Fill a /16, release a pseudo-random half, fill again. Returns allocations made. With `marks`, each run
 * also pushes the time before, between and after its three phases (for the by-phase row).
 * Each phase is a function with one loop, compiled once per allocator class (new Function), so each class
 * gets call sites of its own: one shared loop would be polymorphic and slow down whichever side ran
 * second. The phases are separate functions as in cycle-child.ts, where one function with all three
 * loops deoptimized on reaching the later loops in every cycle (see its comment); this bench keeps the
 * same shape so that both measure the same loops.
 */
function cycle(
  a: Allocator,
  owners: readonly string[],
  half: readonly number[],
  marks?: bigint[],
): () => number {
  let perClass = loops.get(a.constructor);
  if (perClass === undefined) {
    perClass = {
      fill: new Function(
        'a',
        'owners',
        'from',
        'to',
        'for (let i = from; i < to; i++) a.allocate(owners[i]);',
      ) as Fill,
      drop: new Function(
        'a',
        'owners',
        'half',
        'for (let k = 0; k < half.length; k++) a.release(owners[half[k]]);',
      ) as Drop,
    };
    loops.set(a.constructor, perClass);
  }
  const { fill, drop } = perClass;
  return () => {
    const n = half.length * 2;
    marks?.push(process.hrtime.bigint());
    fill(a, owners, 0, n);
    marks?.push(process.hrtime.bigint());
    drop(a, owners, half);
    marks?.push(process.hrtime.bigint());
    fill(a, owners, n, n + half.length);
    marks?.push(process.hrtime.bigint());
    return n + half.length;
  };
}
const loops = new Map<unknown, { fill: Fill; drop: Drop }>();

const rows: Row[] = [];
const spec16: PoolSpec = { name: 'bench-16', subnet: '10.20.0.0/16' };
const N16 = 65_534;
const owners = podUids(N16 + N16 / 2, 7);
const half = pseudoRandomHalf(N16, 11);

// 1. /16 end to end: allocate all, release a pseudo-random half, allocate until full. Run on a new pool
// ("cold": its memory is touched for the first time, and a first touch costs a page fault) and on a pool
// whose memory was touched by an earlier fill ("warm": a long-running controller's pool).
{
  const releaseAll = (p: Pool) => {
    for (const [owner] of p.allocations()) p.release(owner);
  };
  // The three measurements take turns, so a slow spell of this shared machine hits them alike;
  // each keeps its best run.
  let count = cycle(createPool(spec16), owners, half)(); // warm-up (JIT)
  cycle(new IpNumAllocator('10.20.0.0/16'), owners, half)();
  let coldMs = Number.POSITIVE_INFINITY;
  let warmMs = Number.POSITIVE_INFINITY;
  let baseMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < (quick ? 2 : 5); round++) {
    const pool = createPool(spec16, { expectedOwners: N16 });
    const ours = cycle(pool, owners, half);
    coldMs = Math.min(
      coldMs,
      timeMs(() => (count = ours())),
    );
    releaseAll(pool);
    warmMs = Math.min(
      warmMs,
      timeMs(() => (count = ours())),
    );
    releaseAll(pool);
    warmMs = Math.min(
      warmMs,
      timeMs(() => (count = ours())),
    );
    const base = cycle(new IpNumAllocator('10.20.0.0/16'), owners, half);
    baseMs = Math.min(
      baseMs,
      timeMs(() => base()),
    );
  }
  const baseRate = (count / baseMs) * 1000;
  for (const [label, ms] of [
    ['warm pool', warmMs],
    ['new pool', coldMs],
  ] as const) {
    const rate = (count / ms) * 1000;
    rows.push({
      case: `/16 allocate ${N16} + release half + refill, ${label} (${count} allocations)`,
      value: `${fmtRate(rate)} (${ms.toFixed(1)} ms, ${fmtNs((ms * 1e6) / count)}/allocation)`,
      baseline: `${fmtRate(baseRate)} (${baseMs.toFixed(1)} ms, ip-num)`,
      ratio: `${(rate / baseRate).toFixed(1)}x`,
      target: '>= 3 M/s, >= 20x',
      met: rate >= 3e6 && rate / baseRate >= 20,
    });
  }
  // What a first touch of fresh memory costs here: it explains the gap between the two lines above.
  const pages = 4096;
  const fresh = new Int32Array(pages * 1024);
  const faultMs = timeMs(() => {
    for (let i = 0; i < fresh.length; i += 1024) fresh[i] = 1;
  });
  const touchMs = timeMs(() => {
    for (let i = 0; i < fresh.length; i += 1024) fresh[i] = 2;
  });
  rows.push({
    case: 'first touch of a fresh 4 KiB page (this machine)',
    value: `${fmtNs((faultMs * 1e6) / pages)} per page (${fmtNs((touchMs * 1e6) / pages)} when touched again)`,
  });
  // Where the cycle's time goes: each phase timed on its own, on new pools, best of several rounds per
  // phase. Not part of the figures above (those time the cycle whole), only a breakdown of them.
  const phaseNs = (make: () => Allocator): number[] => {
    const calls = [half.length * 2, half.length, half.length];
    const best = [Infinity, Infinity, Infinity];
    for (let round = 0; round < (quick ? 2 : 5); round++) {
      const marks: bigint[] = [];
      const run = cycle(make(), owners, half, marks);
      // One collection before the cycle, none between its phases (a collection evicts the caches).
      collect();
      run();
      for (let k = 0; k < 3; k++) best[k] = Math.min(best[k]!, Number(marks[k + 1]! - marks[k]!) / calls[k]!);
    }
    return best;
  };
  const oursNs = phaseNs(() => createPool(spec16, { expectedOwners: N16 }));
  const baseNs = phaseNs(() => new IpNumAllocator('10.20.0.0/16'));
  rows.push({
    case: '/16 cycle by phase, new pool: fill, release half, refill (per call)',
    value: oursNs.map(fmtNs).join(', '),
    baseline: baseNs.map(fmtNs).join(', '),
    ratio: oursNs.map((ns, k) => `${(baseNs[k]! / ns).toFixed(1)}x`).join(', '),
  });
}

// 2. The bitmap operations on their own: find the lowest free address, mark it, clear it.
{
  const span = 65_536;
  let ops = 0;
  const run = () => {
    const b = new DenseBitmap(span);
    b.setFreeRange(0, span - 1);
    ops = 0;
    for (let i = 0; i < span; i++) {
      b.take(b.lowestFree());
      ops += 2;
    }
    for (const i of half) {
      b.release(i);
      ops++;
    }
    for (let i = 0; i < half.length; i++) {
      b.take(b.lowestFree());
      ops += 2;
    }
  };
  run();
  const ms = bestMs(quick ? 3 : 10, () => {}, run);
  // Baseline in the same run: the same operations on a Set<number> with a walk to the next free.
  const baseRun = () => {
    const s = new Set<number>();
    let cursor = 0;
    const next = () => {
      while (s.has(cursor)) cursor = (cursor + 1) % span;
      return cursor;
    };
    for (let i = 0; i < span; i++) s.add(next());
    for (const i of half) s.delete(i);
    cursor = 0;
    for (let i = 0; i < half.length; i++) s.add(next());
  };
  baseRun();
  const baseMs = bestMs(quick ? 2 : 5, () => {}, baseRun);
  const rate = (ops / ms) * 1000;
  const baseRate = (ops / baseMs) * 1000;
  rows.push({
    case: 'bitmap ops (find lowest free, mark, clear) on a /16',
    value: fmtRate(rate),
    baseline: `${fmtRate(baseRate)} (Set<number>)`,
    ratio: `${(rate / baseRate).toFixed(1)}x`,
    target: '>= 50 M/s',
    met: rate >= 50e6,
  });
}

// 3. allocateBlock(owner, 8): until a /16 is full, and on a /16 with a pseudo-random half free.
{
  const blocks = Math.floor(N16 / 8);
  const fill = () => {
    const p = createPool(spec16, { expectedOwners: blocks });
    for (let i = 0; i < blocks; i++) p.allocateBlock(owners[i]!, 8);
  };
  fill();
  const fillMs = bestMs(quick ? 2 : 5, () => {}, fill);
  let frag: Pool | undefined;
  let fragBlocks = 0;
  const fragMs = bestMs(
    quick ? 2 : 5,
    () => {
      frag = createPool(spec16, { expectedOwners: N16 });
      for (let i = 0; i < N16; i++) frag.allocate(owners[i]!);
      for (const i of half) frag.release(owners[i]!);
    },
    () => {
      fragBlocks = 0;
      for (let i = 0; ; i++) {
        try {
          frag!.allocateBlock(`egress-${i}`, 8);
          fragBlocks++;
        } catch {
          break;
        }
      }
    },
  );
  // Baseline: the ip-num allocator's first-fit walk, on the same fragmented pool, for a few blocks.
  const base = new IpNumAllocator('10.20.0.0/16');
  for (let i = 0; i < N16; i++) base.allocate(owners[i]!);
  for (const i of half) base.release(owners[i]!);
  const baseBlocks = quick ? 3 : 10;
  const baseMs = timeMs(() => {
    for (let i = 0; i < baseBlocks; i++) base.allocateBlock(`egress-${i}`, 8);
  });
  const perFill = (fillMs * 1e6) / blocks;
  const perFrag = (fragMs * 1e6) / Math.max(1, fragBlocks);
  const perBase = (baseMs * 1e6) / baseBlocks;
  rows.push({
    case: `allocateBlock(8) until a /16 is full (${blocks} blocks)`,
    value: `${fmtNs(perFill)} per block`,
  });
  rows.push({
    case: `allocateBlock(8) on a /16 with a random half free (${fragBlocks} blocks fit)`,
    value: `${fmtNs(perFrag)} per block`,
    baseline: `${fmtNs(perBase)} per block`,
    ratio: `${(perBase / perFrag).toFixed(0)}x`,
    target: '<= 5 µs',
    met: perFrag <= 5000,
  });
}

// 4. A /8 pool: allocator memory per address, then the first million allocations.
{
  const spec8: PoolSpec = { name: 'bench-8', subnet: '10.0.0.0/8' };
  const million = quick ? 200_000 : 1_000_000;
  let keys = podUids(million, 3);
  const before = usedBytes();
  let pool: Pool | undefined = createPool(spec8);
  const empty = usedBytes() - before;
  const own = pool.memoryBytes();
  const addresses = 2 ** 24;
  const bitsPerAddr = (own * 8) / addresses;
  rows.push({
    case: '/8 pool (16.7 M addresses): allocator memory',
    value: `${fmtBytes(own)} = ${bitsPerAddr.toFixed(3)} bits/address (heap delta ${fmtBytes(empty)})`,
    target: '<= 1.1 bits/address',
    met: bitsPerAddr <= 1.1,
  });
  const ms = timeMs(() => {
    for (let i = 0; i < million; i++) pool!.allocate(keys[i]!);
  });
  const after = usedBytes() - before;
  rows.push({
    case: `/8 pool: allocate the first ${million.toLocaleString('en')} addresses`,
    value: `${ms.toFixed(0)} ms (${fmtRate((million / ms) * 1000)}), heap +${fmtBytes(after - empty)} incl. owner index`,
  });
  // 5. restorePool from a snapshot of a million allocations (the JSON a controller would store).
  const snap = JSON.parse(JSON.stringify(pool.snapshot()));
  pool = undefined;
  keys = []; // as after a controller restart: the snapshot holds the only copy of the owner keys
  restorePool(spec8, snap); // warm-up
  let restored: Pool | undefined;
  const restoreMs = bestMs(
    quick ? 1 : 3,
    () => {
      restored = undefined;
      usedBytes(); // start from a collected heap, as a freshly started controller would
    },
    () => {
      restored = restorePool(spec8, snap);
    },
  );
  if (restored!.stats().allocated !== million) throw new Error('restore lost allocations');
  // Baseline: rebuilding the ip-num allocator's state from the same snapshot.
  const baseMs = timeMs(() => {
    const taken = new Set<bigint>();
    const byOwner = new Map<string, bigint>();
    for (const [owner, a] of snap.allocations as Array<[string, string]>) {
      const v = IPv4.fromDecimalDottedString(a).getValue();
      taken.add(v);
      byOwner.set(owner, v);
    }
  });
  rows.push({
    case: `restorePool from a snapshot of ${million.toLocaleString('en')} allocations`,
    value: `${restoreMs.toFixed(0)} ms`,
    baseline: `${baseMs.toFixed(0)} ms (ip-num Set rebuild)`,
    ratio: `${(baseMs / restoreMs).toFixed(1)}x`,
    target: '<= 500 ms',
    met: restoreMs <= 500,
  });
}

// 6. An IPv6 /64 pool: a million allocations, time and memory.
{
  const million = quick ? 200_000 : 1_000_000;
  const keys = podUids(million, 5);
  const before = usedBytes();
  const pool = createPool({ name: 'bench-v6', subnet: 'fd00:10:20::/64' });
  const ms = timeMs(() => {
    for (let i = 0; i < million; i++) pool.allocate(keys[i]!);
  });
  const mem = usedBytes() - before;
  rows.push({
    case: `IPv6 /64 pool: ${million.toLocaleString('en')} allocations`,
    value: `${ms.toFixed(0)} ms (${fmtRate((million / ms) * 1000)}); allocator ${fmtBytes(pool.memoryBytes())}, heap +${fmtBytes(mem)} incl. owner strings`,
  });
}

// 7. Parsing 100,000 prefixes (half IPv4, half IPv6) against ip-num's parser.
{
  const r = rng(9);
  const texts: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    if (i % 2 === 0) {
      const bits = 8 + ((r() * 25) | 0);
      const v = ((r() * 2 ** 32) >>> 0) & (bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0);
      texts.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${bits}`);
    } else {
      const g = Array.from({ length: 4 }, () => ((r() * 65536) | 0).toString(16));
      texts.push(`2001:db8:${g[0]}:${g[1]}::/64`);
    }
  }
  const flat = JSON.parse(JSON.stringify(texts)) as string[];
  let sink = 0;
  const ours = () => {
    for (const t of flat) sink += parsePrefix(t).bits;
  };
  const theirs = () => {
    for (const t of flat) {
      const range = t.includes(':') ? IPv6CidrRange.fromCidr(t) : IPv4CidrRange.fromCidr(t);
      sink += range.cidrPrefix.getValue() > 0n ? 1 : 0;
    }
  };
  ours();
  theirs();
  const ms = bestMs(quick ? 2 : 7, () => {}, ours);
  const baseMs = bestMs(quick ? 1 : 3, () => {}, theirs);
  rows.push({
    case: 'parse 100,000 prefixes (half IPv4, half IPv6)',
    value: `${ms.toFixed(1)} ms (${fmtRate((1e5 / ms) * 1000)})`,
    baseline: `${baseMs.toFixed(1)} ms (ip-num fromCidr)`,
    ratio: `${(baseMs / ms).toFixed(1)}x`,
    target: '>= 10x',
    met: baseMs / ms >= 10,
  });
  if (sink === 0) console.log('');
}

printTable('@isthmus/ipam', rows);
console.log(
  `\nnode ${process.version}, ${process.arch}; best of several runs each; baselines run in the same process.${quick ? ' (BENCH_QUICK=1: smaller sizes)' : ''}`,
);
