// Runs every packages/*/bench/*.bench.ts, then e2e/bench/*.bench.ts, each in its own process (so heap
// figures do not mix), with --expose-gc.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
const root = new URL('..', import.meta.url).pathname;
let failed = 0;
const dirs = readdirSync(join(root, 'packages'))
  .sort()
  .map((pkg) => ({ name: pkg, dir: join(root, 'packages', pkg, 'bench') }));
dirs.push({ name: 'e2e', dir: join(root, 'e2e', 'bench') });
for (const { name, dir } of dirs) {
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'));
  } catch {
    continue;
  }
  for (const f of files.sort()) {
    if (only && !`${name}/${f}`.includes(only)) continue;
    const file = join(dir, f);
    console.log(`\n# ${name}/bench/${f}`);
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', file],
      {
        stdio: 'inherit',
        cwd: root,
      },
    );
    if (r.status !== 0) failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
