// pnpm bench: the /16 cycle's machine instructions per allocation, ours against the ip-num baseline,
// counted by valgrind's callgrind. Wall time on these shared 2-core machines varies by up to 2x from run
// to run; an instruction count does not depend on what else the machine is doing, so this ratio is a
// steady proxy for the wall-time ratio that ipam.bench.ts prints. It is not the target itself.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable, type Row } from './harness';

const quick = process.env.BENCH_QUICK === '1';
const child = fileURLToPath(new URL('./cycle-child.ts', import.meta.url));

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Instructions callgrind counted for the whole child process, and the allocations the child made. */
function count(
  which: 'ours' | 'base',
  cycles: number,
): Promise<{ instructions: number; allocations: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--callgrind-out-file=/dev/null',
        process.execPath,
        // Fixed hash seeds and no concurrent compiler threads, so runs differ as little as they can.
        '--predictable',
        '--import',
        'tsx',
        child,
        which,
        String(cycles),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    let out = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || m === null)
        reject(new Error(`callgrind run of ${which} ${cycles} failed (${code}): ${err.slice(-2000)}`));
      else
        resolve({
          instructions: Number(m[1]),
          allocations: (JSON.parse(out.trim().split('\n').pop()!) as { allocations: number }).allocations,
        });
    });
  });
}

/** Instructions per allocation: a run with `cycles` cycles minus one with none, two processes at once. */
async function perAllocation(which: 'ours' | 'base', cycles: number): Promise<number> {
  const [without, withCycles] = await Promise.all([count(which, 0), count(which, cycles)]);
  return (withCycles.instructions - without.instructions) / withCycles.allocations;
}

const rows: Row[] = [];
if (!hasValgrind()) {
  rows.push({
    case: '/16 cycle, instructions per allocation',
    value: 'skipped: valgrind is not installed (apt-get install valgrind)',
  });
} else {
  // The baseline costs about 20 times as much per cycle, so it needs fewer cycles to stand out of the
  // run-to-run difference (45-54 M instructions between two runs of the same child, measured).
  const ours = await perAllocation('ours', quick ? 4 : 16);
  const base = await perAllocation('base', quick ? 1 : 2);
  rows.push({
    case: '/16 allocate 65534 + release half + refill, new pool: instructions per allocation (callgrind)',
    value: `${ours.toFixed(0)} instructions`,
    baseline: `${base.toFixed(0)} instructions (ip-num)`,
    ratio: `${(base / ours).toFixed(1)}x`,
    target: 'proxy for >= 20x',
  });
}
printTable('@isthmus/ipam: instruction counts', rows);
