import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Browser tests start servers, Redis and Chromium: one file at a time on a 2-core machine.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A page on a busy 2-core machine can take seconds to show what it will show.
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
});
