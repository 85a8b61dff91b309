/**
 * The tracking acceptance check with a full 60-second MLflow outage (the int test
 * apps/platform/src/tracking.int.test.ts stops MLflow for a shorter time to keep CI fast):
 *
 *   a headless Temporal dev server, a real MLflow server and the real platform process (API, worker,
 *   local executor, tracking on) as a child; one synthetic training job long enough to span the outage;
 *   MLflow stopped for `--down` seconds once the job reached `--halt-at-step`; then, after MLflow is back
 *   and the outbox is drained: the job's status, the metric points the runtime emitted (per the job's
 *   `metrics` events, checked against the attempt's events.jsonl) against the points in MLflow (REST
 *   `metrics/get-history`, plain fetch), duplicates, and the runs carrying the job's tag. PASS/FAIL.
 *
 *   npx tsx bench/tracking-outage.ts [--down 60] [--steps 240] [--step-ms 500] [--halt-at-step 40]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { startTestMlflow, type TestMlflow } from '@llmops/testing';
import {
  apiClient,
  killLeftoverRuns,
  linkPythonEnv,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from '../apps/platform/src/testing/platform-process.ts';

const { values } = parseArgs({
  options: {
    down: { type: 'string', default: '60' },
    steps: { type: 'string', default: '240' },
    'step-ms': { type: 'string', default: '500' },
    'halt-at-step': { type: 'string', default: '40' },
  },
});
/** Bad input: the problem on stderr, exit 2, nothing started. */
function usage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
const bounded = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be an integer from ${min} to ${max}, got '${String(v)}'`);
  return n;
};
const DOWN_S = bounded('down', values.down, 1, 600);
const STEPS = bounded('steps', values.steps, 10, 10_000);
const STEP_MS = bounded('step-ms', values['step-ms'], 10, 10_000);
const HALT_AT = bounded('halt-at-step', values['halt-at-step'], 1, STEPS - 1);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'llmops-bench-outage-'));
  const home = join(dir, 'home');
  let server: DevServer | undefined;
  let mlflow: TestMlflow | undefined;
  let platform: PlatformProcess | undefined;
  try {
    await linkPythonEnv(home);
    const cli = await resolveTemporalCli({ home: testHome(), dev: true });
    [server, mlflow] = await Promise.all([
      startTemporalDevServer({ cli, headless: true, dbFile: join(dir, 'temporal.db') }),
      startTestMlflow(),
    ]);
    const ml = mlflow;
    const rest = async <T = any>(path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${ml.url}/api/2.0/mlflow/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };

    const token = 'bench-outage-token';
    platform = await startPlatformProcess({
      home,
      temporalAddress: server.address,
      token,
      env: {
        LLMOPS_SYNTHETIC_RUNS: `${STEPS}x${STEP_MS}@${Math.max(1, Math.floor(STEPS / 4))}`,
        EXPERIMENT_TRACKING_ENABLED: 'true',
        MLFLOW_ENABLED: 'true',
        MLFLOW_TRACKING_URI: ml.url,
      },
    });
    const p = platform;
    const api = apiClient(p);
    const get = async <T = any>(path: string): Promise<T> => {
      const r = await fetch(`${p.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return ((await r.json()) as { data: T }).data;
    };
    await api.uploadCorpus();
    const job = await api.submitPretrain('outage-lm');
    const t0 = Date.now();
    const line = (text: string) => process.stdout.write(`[${s(Date.now() - t0).padStart(7)}] ${text}\n`);
    line(`job ${job.id} submitted (${STEPS} steps × ${STEP_MS} ms, synthetic runtime)`);

    const run = await waitFor(
      'the MLflow run',
      async () => {
        const r = await fetch(`${p.api}/training/jobs/${job.id}/experiment-run`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return r.status === 200
          ? ((await r.json()) as { data: { run_id: string; experiment_id: string } }).data
          : null;
      },
      120_000,
      200,
    );
    line(`MLflow run ${run.run_id} created`);
    await waitFor(
      `step ${HALT_AT}`,
      async () =>
        (await api.events(job.id)).some((e) => e.type === 'progress' && Number(e.detail.step) >= HALT_AT),
      300_000,
      250,
    );
    await ml.halt();
    const haltedAt = Date.now();
    line(`MLflow stopped at step ≥ ${HALT_AT}; down for ${DOWN_S} s`);
    const degraded = await waitFor(
      'tracking degraded',
      async () => {
        const t = (
          await get<{ tracking: { status: string; error: string | null } }>(`/training/jobs/${job.id}`)
        ).tracking;
        return t.status === 'degraded' ? t : null;
      },
      30_000,
      250,
    );
    line(`job tracking degraded: ${degraded.error ?? ''}`.slice(0, 200));
    await new Promise((r) => setTimeout(r, Math.max(0, haltedAt + DOWN_S * 1000 - Date.now())));
    const during = await get<{ status: string; tracking: { pendingRows: number } }>(
      `/training/jobs/${job.id}`,
    );
    const stoppedMs = Date.now() - haltedAt;
    await ml.resume();
    const downMs = Date.now() - haltedAt;
    line(
      `MLflow started again after ${s(stoppedMs)} stopped, answering after ${s(downMs)}; job ${during.status}, ${during.tracking.pendingRows} outbox rows waiting`,
    );

    const ended = await waitFor(
      'the job to end',
      async () => {
        const j = await api.job(job.id);
        return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
      },
      STEPS * STEP_MS + 300_000,
      500,
    );
    line(`job ${ended.status}`);
    const tracking = await waitFor(
      'the outbox to drain',
      async () => {
        const t = (await get<{ tracking: any }>(`/training/jobs/${job.id}`)).tracking;
        return t.status === 'ok' && t.pendingRows === 0 && (ended.status !== 'SUCCEEDED' || t.modelVersion)
          ? t
          : null;
      },
      180_000,
      500,
    );
    line(
      `outbox drained: tracking ${tracking.status}, ${tracking.rejectedRows} rows set aside, model version ${tracking.modelVersion}`,
    );

    // Emitted: the job's `metrics` events (what the worker recorded), checked against the runtime's file.
    const events = await api.events(job.id);
    const recorded = new Map<string, number>();
    for (const e of events.filter((x) => x.type === 'metrics'))
      for (const point of (e.detail.points ?? []) as { values: Record<string, unknown> }[])
        for (const key of Object.keys(point.values)) recorded.set(key, (recorded.get(key) ?? 0) + 1);
    const lines = (await readFile(join(home, 'runs', job.id, 'attempt-1', 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { type: string; values?: Record<string, number> })
      .filter((e) => e.type === 'metric');
    const fileValues = lines.reduce((a, e) => a + Object.keys(e.values ?? {}).length, 0);

    let inMlflow = 0;
    let duplicates = 0;
    let missingKeys = 0;
    for (const [key] of recorded) {
      const q = new URLSearchParams({ run_id: run.run_id, metric_key: key, max_results: '100000' });
      const history =
        (await rest<{ metrics?: { step: number }[] }>(`metrics/get-history?${q}`)).metrics ?? [];
      if (history.length === 0) missingKeys += 1;
      inMlflow += history.length;
      duplicates += history.length - new Set(history.map((m) => m.step)).size;
    }
    const emitted = [...recorded.values()].reduce((a, b) => a + b, 0);
    // Every experiment, deleted ones too: a second run anywhere would count.
    const { experiments } = await rest<{ experiments?: { experiment_id: string }[] }>('experiments/search', {
      max_results: 1000,
      view_type: 'ALL',
    });
    const runs = await rest<{ runs?: unknown[] }>('runs/search', {
      experiment_ids: (experiments ?? []).map((e) => e.experiment_id),
      filter: `tags.\`llmops.job_id\` = '${job.id}'`,
      run_view_type: 'ALL',
    });
    const runCount = runs.runs?.length ?? 0;
    const { run: final } = await rest<{ run: { info: { status: string } } }>(`runs/get?run_id=${run.run_id}`);

    const checks: [string, boolean][] = [
      [
        `MLflow stopped ≥ ${DOWN_S} s while the job ran (stopped ${s(stoppedMs)}, unreachable ${s(downMs)}; job ${during.status} when it came back)`,
        stoppedMs >= DOWN_S * 1000 && during.status === 'RUNNING',
      ],
      [`job SUCCEEDED (${ended.status})`, ended.status === 'SUCCEEDED'],
      [
        `metric values in MLflow = emitted (${inMlflow} of ${emitted}; runtime file ${fileValues}, ${lines.length} points × ${recorded.size} keys)`,
        inMlflow === emitted && emitted === fileValues && missingKeys === 0,
      ],
      [`no duplicates (${duplicates})`, duplicates === 0],
      [`exactly one run with the job's tag (${runCount})`, runCount === 1],
      [`run ended FINISHED (${final.info.status})`, final.info.status === 'FINISHED'],
    ];
    process.stdout.write('\n');
    for (const [what, ok] of checks) process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${what}\n`);
    const pass = checks.every(([, ok]) => ok);
    process.stdout.write(`\n${pass ? 'PASS' : 'FAIL'}: 60-second MLflow outage acceptance check\n`);
    process.exitCode = pass ? 0 : 1;
  } finally {
    await platform?.stop().catch(() => platform?.kill9());
    await killLeftoverRuns(join(home, 'runs'));
    await Promise.all([server?.stop(), mlflow?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
