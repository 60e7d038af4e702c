import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e files start servers and a real discord.js client; keep them in separate forks
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
