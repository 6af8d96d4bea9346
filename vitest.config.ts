// Test runner settings: integration tests spawn real runtimes and Python workers, so they get generous
// per-test time limits (a limit is a hang detector here, never a speed check).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    reporters: ['default'],
  },
});
