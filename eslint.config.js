import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import pluginVue from 'eslint-plugin-vue';
import workerWorkflows from './apps/worker/eslint.workflows.js';

// Import direction (docs/architecture.md): apps -> packages; spec imports nothing but zod;
// no package imports an app; core never imports Fastify or vendor SDKs.
const noApps = {
  group: ['@llmops/server', '@llmops/platform', '@llmops/cli', '@llmops/worker', '@llmops/web'],
  message: 'packages must not import apps',
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '.llmops/**',
      '.llmops-test/**',
      '.cache/**',
      'coverage/**',
      'docs/api/**',
      'test-results/**',
      'apps/web/dist/**',
      'apps/web/dist.tmp-*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-cycle': 'off',
    },
  },
  {
    files: ['packages/spec/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!zod$|\\.{1,2}/).*', message: 'packages/spec may import only zod' }] },
      ],
    },
  },
  {
    // Workflow modules are evaluated again for every workflow execution: they import the lean entry point.
    files: ['apps/worker/src/workflows/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@llmops/spec',
              message:
                "workflow code imports '@llmops/spec/workflows' (see packages/spec/src/workflow-code.ts)",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/config/src/**/*.ts', 'packages/db/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noApps, { group: ['@llmops/core'], message: 'core sits above config and db' }] },
      ],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noApps,
            {
              group: ['fastify', 'fastify-*', '@fastify/*'],
              message: 'core must not depend on the HTTP framework',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/integrations/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noApps,
            {
              group: ['@llmops/core', '@llmops/db', '@llmops/orchestration', '@llmops/integrations-*'],
              message: 'an integration imports only spec and config',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/testing/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noApps] }] },
  },
  {
    // Tests poke at JSON responses; typing every envelope there adds noise, not safety.
    files: ['**/*.test.ts', '**/testing/**/*.ts', 'bench/**/*.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // The web console: Vue single-file components (types are checked by vue-tsc, formatting by Prettier).
  ...pluginVue.configs['flat/essential'].map((c) => ({ ...c, files: ['apps/web/src/**/*.vue'] })),
  {
    files: ['apps/web/src/**/*.vue'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' },
    },
    rules: { 'no-undef': 'off' },
  },
  {
    // web -> client -> spec: the console reaches the platform only through its HTTP API.
    files: ['apps/web/src/**/*.ts', 'apps/web/src/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@llmops/core',
                '@llmops/db',
                '@llmops/server',
                '@llmops/config',
                '@llmops/orchestration',
              ],
              message: 'the console talks to the platform only through @llmops/client and @llmops/spec',
            },
          ],
        },
      ],
    },
  },
  workerWorkflows,
);
