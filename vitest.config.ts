import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import packages by name; point the names at sources so no build is needed first.
export default defineConfig({
  resolve: {
    alias: {
      '@isthmus/ipam': fileURLToPath(new URL('./packages/ipam/src/index.ts', import.meta.url)),
      '@isthmus/globalnet-ipam': fileURLToPath(
        new URL('./packages/globalnet-ipam/src/index.ts', import.meta.url),
      ),
      '@isthmus/route-planner': fileURLToPath(
        new URL('./packages/route-planner/src/index.ts', import.meta.url),
      ),
      '@isthmus/cable': fileURLToPath(new URL('./packages/cable/src/index.ts', import.meta.url)),
      '@isthmus/k8s-adapter': fileURLToPath(new URL('./packages/k8s-adapter/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'examples/**/*.test.ts',
      'testing/**/*.test.ts',
      'e2e/**/*.test.ts',
    ],
    testTimeout: 60_000,
  },
});
