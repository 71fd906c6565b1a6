// Runs every packages/*/bench/*.bench.ts in its own process (so heap figures do not mix), with --expose-gc.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
const root = new URL('..', import.meta.url).pathname;
let failed = 0;
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  let files = [];
  try {
    files = readdirSync(join(root, 'packages', pkg, 'bench')).filter((f) => f.endsWith('.bench.ts'));
  } catch {
    continue;
  }
  for (const f of files.sort()) {
    if (only && !`${pkg}/${f}`.includes(only)) continue;
    const file = join(root, 'packages', pkg, 'bench', f);
    console.log(`\n# ${pkg}/bench/${f}`);
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
