// Regenerates the repository's .env.example from envSchema; with --check, fails when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { ENV_EXAMPLE_PATH, renderEnvExample } from './env-example.ts';

const expected = renderEnvExample();
if (process.argv.includes('--check')) {
  let actual = '';
  try {
    actual = readFileSync(ENV_EXAMPLE_PATH, 'utf8');
  } catch {
    // A missing file is reported as out of date below.
  }
  if (actual !== expected) {
    console.error('.env.example is out of date; run: npx tsx packages/config/src/write-env-example.ts');
    process.exitCode = 1;
  }
} else {
  writeFileSync(ENV_EXAMPLE_PATH, expected);
  console.log('wrote .env.example');
}
