// One side of instructions.bench.ts, run under callgrind: `cycle-child.ts <ours|base> <cycles>` warms up
// with 3 /16 cycles, then runs <cycles> more, each on a new allocator. The parent subtracts a run with 0
// cycles, which leaves the instructions of the cycles alone.
import { createPool } from '../src/index';
import { IpNumAllocator, pseudoRandomHalf } from './baseline';
import { podUids } from './harness';

const [which, cyclesArg] = process.argv.slice(2);
const cycles = Number(cyclesArg);
if ((which !== 'ours' && which !== 'base') || !Number.isInteger(cycles) || cycles < 0) {
  throw new Error(`usage: cycle-child.ts <ours|base> <cycles>, got ${which} ${cyclesArg}`);
}
const N16 = 65_534;
const owners = podUids(N16 + N16 / 2, 7);
const half = pseudoRandomHalf(N16, 11);

interface Allocator {
  allocate(owner: string): unknown;
  release(owner: string): unknown;
}
const make = (): Allocator =>
  which === 'ours'
    ? createPool({ name: 'bench-16', subnet: '10.20.0.0/16' }, { expectedOwners: N16 })
    : new IpNumAllocator('10.20.0.0/16');

// Each phase is a function with one loop. With the whole cycle in one function, the loops ran in on-stack
// replacement code compiled before the later loops had type feedback: it deoptimized on reaching them
// in every cycle (--trace-deopt), and about 200 instructions per allocation ran in the interpreter.
function fill(a: Allocator, from: number, to: number): void {
  for (let i = from; i < to; i++) a.allocate(owners[i]!);
}
function drop(a: Allocator): void {
  for (let k = 0; k < half.length; k++) a.release(owners[half[k]!]!);
}
function cycle(a: Allocator): number {
  const n = half.length * 2;
  fill(a, 0, n);
  drop(a);
  fill(a, n, n + half.length);
  return n + half.length;
}

for (let i = 0; i < 3; i++) cycle(make());
// Each allocator becomes garbage after its cycle, so every cycle runs on a heap of the same size.
let allocations = 0;
for (let i = 0; i < cycles; i++) allocations += cycle(make());
console.log(JSON.stringify({ which, cycles, allocations }));
