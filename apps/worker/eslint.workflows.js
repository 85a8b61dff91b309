import { builtinModules } from 'node:module';

// Temporal discipline (STYLE.md): workflow code is replayed and must be deterministic. It may not use
// Node built-ins or anything that does I/O, and it reaches activities only through proxyActivities —
// so it imports their types, never their code.
const deterministic = 'workflow code is deterministic and runs in a sandbox: no Node built-ins or I/O';

export default {
  files: ['apps/worker/src/workflows/**/*.ts'],
  ignores: ['**/*.test.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        paths: builtinModules.map((name) => ({ name, message: deterministic })),
        patterns: [
          { group: ['node:*'], message: deterministic },
          {
            group: ['../activities', '../activities/*', '**/activities/**'],
            allowTypeImports: true,
            message: 'call activities through proxyActivities and import their types only (import type)',
          },
          {
            group: [
              '@llmops/db',
              '@llmops/core',
              '@llmops/config',
              '@llmops/orchestration',
              '@temporalio/activity',
              '@temporalio/client',
              '@temporalio/worker',
            ],
            allowTypeImports: true,
            message: `${deterministic}; do this in an activity`,
          },
        ],
      },
    ],
  },
};
