import type { Options } from 'tsup';

// The one build every package shares: ESM + CJS with .d.ts, for Node 20 and later.
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
};
