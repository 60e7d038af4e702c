import { defineConfig } from 'vitest/config';

// Three projects, one config: `npm run test:unit` (fast, no real sleeping), `npm run test:e2e` (the real bot,
// a real discord.js client and the fakes on loopback) and `npm run test:browser` (the mask editor's page in a real
// headless Chromium). `npm test` type-checks, then runs unit, then e2e, then browser.
// `npx vitest run <file>` still picks the right project by the file's path. See test/README.md.
export default defineConfig({
  test: {
    // e2e files start servers and a real discord.js client; keep every file in its own fork
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // a unit test that needs more than this is waiting for real time: give it a clock instead
          testTimeout: 10_000,
          // the store suite starts its own redis-server
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          // the stories, and the fakes' own tests (they log a real discord.js client in, so they belong here)
          include: ['test/e2e/**/*.test.ts', 'test/fakes/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // the real bot and the fakes, driven through its pages in a headless Chromium (playwright-core; .ci/run installs chromium)
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
