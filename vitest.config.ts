import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

// Two named tiers: `unit` (pure, *.test.ts) and `int` (*.int.test.ts, real PGlite/PostgreSQL and HTTP).
// The `int` tier runs a second time in CI with DATABASE_URL pointing at a PostgreSQL server.
export default defineConfig({
  test: {
    projects: [
      {
        // Single-file components of the web console (its component tests run in happy-dom).
        plugins: [vue()],
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/integrations/*/src/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'int',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'packages/integrations/*/src/**/*.int.test.ts',
            'apps/*/src/**/*.int.test.ts',
            'e2e/**/*.int.test.ts',
          ],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The web console in Chromium against a running platform (e2e/console/global-setup.ts starts it).
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['e2e/console/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
