import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'packages/web/app/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Suites start real servers and databases; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
