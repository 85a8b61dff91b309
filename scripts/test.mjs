// The one test command (`npm test`): static checks, then every Vitest tier on embedded PGlite, then —
// when LLMOPS_TEST_POSTGRES_URL is set — the database tier again on that PostgreSQL server, the Python
// runtime's tests, and the web console's browser tests (e2e) once, on PGlite.
// Ends with one line "N passed, N failed" summing every tier.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'test-results');
mkdirSync(out, { recursive: true });
const tiers = [];

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

function check(name, cmd, args) {
  process.stdout.write(`\n== check: ${name}\n`);
  const ok = run(cmd, args);
  tiers.push({ name: `check ${name}`, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
}

function vitest(name, project, env = {}, filters = []) {
  process.stdout.write(`\n== vitest: ${name}\n`);
  const report = join(out, `vitest-${name}.json`);
  run(
    'npx',
    [
      'vitest',
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...filters,
    ],
    env,
  );
  let passed = 0;
  let failed = 0;
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed = r.numPassedTests;
    failed =
      r.numFailedTests +
      (r.numRuntimeErrorTestSuites ?? 0) +
      r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  } catch {
    failed = 1; // no report: the run itself broke
  }
  tiers.push({ name: `vitest ${name}`, passed, failed });
}

/** The Python runtime's tests: prepares the project's virtual environment, then ruff and pytest. */
function pytest() {
  process.stdout.write('\n== pytest: runtime\n');
  const report = join(out, 'pytest.xml');
  rmSync(report, { force: true });
  const ok = run('bash', ['runtimes/python/run-tests.sh']);
  let passed = 0;
  let failed = 0;
  try {
    const xml = readFileSync(report, 'utf8');
    const attr = (name) => Number(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`).exec(xml)?.[1] ?? 0);
    const total = attr('tests');
    failed = attr('failures') + attr('errors');
    passed = total - failed - attr('skipped');
  } catch {
    failed = 1; // no report: preparing the environment or collecting the tests failed
  }
  if (!ok && failed === 0) failed = 1;
  tiers.push({ name: 'pytest runtime', passed, failed });
}

const pgUrl = process.env.LLMOPS_TEST_POSTGRES_URL;
const embedded = { DATABASE_URL: '' };

check('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
check('typecheck web', 'npx', ['vue-tsc', '-p', 'apps/web/tsconfig.json', '--noEmit']);
check('lint', 'npx', ['eslint', '.']);
check('format', 'npx', ['prettier', '--check', '--log-level', 'warn', '**/*.{ts,mjs,js,json,yaml}']);
check('openapi drift', 'npx', ['tsx', 'apps/server/src/scripts/write-openapi.ts', '--check']);
check('runtime schema drift', 'npx', ['tsx', 'apps/server/src/scripts/write-runtime-schemas.ts', '--check']);
check('env example drift', 'npx', ['tsx', 'packages/config/src/write-env-example.ts', '--check']);
vitest('unit', 'unit', embedded);
vitest('int-pglite', 'int', embedded);
// The second database run covers the tiers whose behaviour depends on the database (repositories,
// services and the HTTP API); process supervision and Temporal tests do not, and run once.
const DATABASE_TIERS = [
  'packages/db',
  // packages/core without process supervision (execution/) and the serving drivers (no database there);
  // the rollouts through the API do use it (revisions, traffic shares, events).
  'packages/core/src/audit',
  'packages/core/src/identity',
  'packages/core/src/platform',
  'packages/core/src/tracking',
  'apps/platform/src/serving-rollout.int.test.ts',
  'apps/server',
  'apps/cli/src/cli.int.test.ts',
  'apps/cli/src/jobs.int.test.ts',
  'apps/cli/src/registry.int.test.ts',
  'apps/cli/src/tracking.int.test.ts',
];
if (pgUrl) vitest('int-postgres', 'int', { DATABASE_URL: pgUrl }, DATABASE_TIERS);
if (existsSync(join(root, 'runtimes/python/run-tests.sh'))) pytest();
// The web console in Chromium against a running platform (builds the console first if it changed).
vitest('e2e', 'e2e', embedded);

process.stdout.write('\n== summary\n');
for (const t of tiers) process.stdout.write(`${t.name.padEnd(24)} ${t.passed} passed, ${t.failed} failed\n`);
const passed = tiers.reduce((n, t) => n + t.passed, 0);
const failed = tiers.reduce((n, t) => n + t.failed, 0);
const line = `${passed} passed, ${failed} failed`;
writeFileSync(join(out, 'summary.txt'), `${line}\n`);
process.stdout.write(`${line}\n`);
process.exit(failed === 0 ? 0 : 1);
