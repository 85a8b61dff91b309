/**
 * Metric forwarding throughput: metric points entering the platform as the worker records them and
 * delivered to a real MLflow server by the tracking dispatcher, against the same points sent straight to
 * the same server with sequential `log-batch` calls of 1000 metrics (the baseline, measured in the same
 * run). A point is one step with `--keys` values (one MLflow metric per key).
 *
 * - direct: `log-batch` calls of 1000 metrics, one after the other, to a fresh run;
 * - platform: a job on a test database (PGlite, or PostgreSQL with DATABASE_URL) enters RUNNING and its
 *   run is created by the dispatcher; then the clock starts and the points are written as `metrics` job
 *   events (`appendEvents`, the call the worker's attempt recorder makes; `--per-event` points each, as
 *   fast as the database takes them) while the dispatcher, started as the platform starts it, delivers
 *   the outbox rows the trigger writes. The clock stops when the dispatcher delivered them all and MLflow's REST API
 *   (`runs/get`, plain fetch) shows the last step for every key; since a job's rows are delivered in order, the counts are then
 *   checked with `metrics/get-history` for every key (all points, no duplicates).
 *
 * Prints points/s of both, the ratio platform/direct against the 0.9 target, and the dispatcher's
 * log-batch calls (count and mean size). Odd rounds run direct first, even rounds the platform first, so
 * MLflow's growing tables weigh on both alike.
 *
 *   npx tsx bench/metrics.ts [--points 20000] [--keys 4] [--per-event 100] [--rounds 1] [--db pglite|postgres]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTrackingDispatcher, type StoredPoint } from '@llmops/core';
import { createMlflowClient, type MlflowApi, type Metric } from '@llmops/integrations-mlflow';
import { createTestDb, seedProject, startTestMlflow, type TestDb, type TestMlflow } from '@llmops/testing';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '20000' },
    keys: { type: 'string', default: '4' },
    'per-event': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '1' },
    db: { type: 'string' },
    trace: { type: 'boolean', default: false },
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
const POINTS = bounded('points', values.points, 1, 200_000);
const KEYS = bounded('keys', values.keys, 1, 100);
const PER_EVENT = bounded('per-event', values['per-event'], 1, 10_000);
const ROUNDS = bounded('rounds', values.rounds, 1, 10);
const DB = values.db ?? (process.env.DATABASE_URL ? 'postgres' : 'pglite');
if (DB !== 'pglite' && DB !== 'postgres') usage(`--db must be pglite or postgres, got '${DB}'`);
if (DB === 'postgres' && !process.env.DATABASE_URL)
  usage('--db postgres needs DATABASE_URL (a PostgreSQL database the benchmark may add a schema to)');
if (DB === 'pglite') delete process.env.DATABASE_URL;

const TARGET = 0.9;
const MAX_METRICS_PER_CALL = 1000;
const actor = 'system:worker';
const keyOf = (k: number) => `metric_${k}`;

/** Point `i` (step i+1) with a distinct runtime timestamp, as the recorder stores it. */
function pointsOf(base: number): StoredPoint[] {
  return Array.from({ length: POINTS }, (_, i) => {
    const vals: Record<string, number> = {};
    for (let k = 0; k < KEYS; k++) vals[keyOf(k)] = Math.sin(i / 100 + k);
    return { step: i + 1, values: vals, ts: base + i };
  });
}

/** MLflow's REST API with plain fetch: nothing of ours between the count and the server. */
function restOf(url: string) {
  return async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}/api/2.0/mlflow/${path}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

/** Every key's last step visible (`runs/get` latest metrics). */
async function lastStepVisible(rest: ReturnType<typeof restOf>, runId: string): Promise<boolean> {
  const { run } = await rest<{ run: { data: { metrics?: { key: string; step: number }[] } } }>(
    `runs/get?run_id=${runId}`,
  );
  const latest = new Map((run.data.metrics ?? []).map((m) => [m.key, Number(m.step)]));
  for (let k = 0; k < KEYS; k++) if (latest.get(keyOf(k)) !== POINTS) return false;
  return true;
}

/** Points per key in MLflow (`metrics/get-history`, all pages) and how many steps appear twice. */
async function countHistory(
  rest: ReturnType<typeof restOf>,
  runId: string,
): Promise<{ min: number; max: number; duplicates: number }> {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let duplicates = 0;
  for (let k = 0; k < KEYS; k++) {
    const steps: number[] = [];
    for (let token: string | undefined; ;) {
      const q = new URLSearchParams({ run_id: runId, metric_key: keyOf(k), max_results: '25000' });
      if (token) q.set('page_token', token);
      const page = await rest<{ metrics?: { step: number }[]; next_page_token?: string }>(
        `metrics/get-history?${q}`,
      );
      for (const m of page.metrics ?? []) steps.push(Number(m.step));
      token = page.next_page_token;
      if (!token) break;
    }
    min = Math.min(min, steps.length);
    max = Math.max(max, steps.length);
    duplicates += steps.length - new Set(steps).size;
  }
  return { min, max, duplicates };
}

/** CPU time of this process (user + system) since `from`, in seconds. */
const cpuSeconds = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

/** The adapter, counting the log-batch calls that carry metrics. */
function counting(api: MlflowApi) {
  const stats = { calls: 0, metrics: 0, ms: 0, first: 0, last: 0 };
  const wrapped: MlflowApi = {
    ...api,
    async logBatch(req) {
      const t0 = performance.now();
      await api.logBatch(req);
      if (req.metrics && req.metrics.length > 0) {
        stats.calls += 1;
        stats.metrics += req.metrics.length;
        stats.ms += performance.now() - t0;
        stats.first ||= t0;
        stats.last = performance.now();
      }
    },
  };
  return { api: wrapped, stats };
}

async function direct(
  client: MlflowApi,
  rest: ReturnType<typeof restOf>,
  experimentId: string,
  round: number,
) {
  const run = await client.createRun({ experimentId, runName: `direct-${round}` });
  const runId = run.info.run_id;
  const metrics: Metric[] = pointsOf(1_750_000_000_000).flatMap((p) =>
    Object.entries(p.values).map(([key, value]) => ({
      key,
      value: value as number,
      timestamp: p.ts!,
      step: p.step,
    })),
  );
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let calls = 0;
  for (let i = 0; i < metrics.length; i += MAX_METRICS_PER_CALL) {
    await client.logBatch({ runId, metrics: metrics.slice(i, i + MAX_METRICS_PER_CALL) });
    calls += 1;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (!(await lastStepVisible(rest, runId)))
    throw new Error('direct: the last step is not visible in MLflow');
  return { seconds, calls, runId, cpu: cpuSeconds(cpu0) };
}

async function platform(
  db: TestDb,
  mlflow: TestMlflow,
  rest: ReturnType<typeof restOf>,
  projectId: string,
  round: number,
  dir: string,
) {
  const { api, stats } = counting(createMlflowClient({ baseUrl: mlflow.url, timeoutMs: 30_000 }));
  const job = await db.repos.jobs.create({
    id: randomUUID(),
    projectId,
    submissionKind: 'pretrain',
    jobType: 'PRETRAIN',
    spec: { jobType: 'pretrain', trainJobSpec: { output: { artifact_name: `bench-${round}` } } },
    specHash: 'bench',
    createdBy: 'bench',
  });
  // The dispatcher's claims (rows per claim, when) are counted on the way to the repository.
  const claims: { at: number; rows: number }[] = [];
  const tracking = db.repos.tracking;
  const observed = {
    ...db,
    repos: {
      ...db.repos,
      tracking: {
        ...tracking,
        async claimBatch(...args: Parameters<typeof tracking.claimBatch>) {
          const rows = await tracking.claimBatch(...args);
          if (rows.length > 0) claims.push({ at: performance.now(), rows: rows.length });
          return rows;
        },
      },
    },
  };
  const dispatcher = createTrackingDispatcher({
    db: observed,
    mlflow: api,
    artifactsDir: join(dir, 'artifacts'),
    runsDir: join(dir, 'runs'),
  });
  dispatcher.start();
  try {
    // RUNNING: the dispatcher creates the run (as it does within a second of a real job starting).
    await db.repos.jobs.transition({ id: job.id, from: ['QUEUED'], to: 'RUNNING', actor });
    let runId: string | null = null;
    for (const until = Date.now() + 60_000; !runId; await new Promise((r) => setTimeout(r, 20))) {
      const t = await db.repos.tracking.getJobTracking(job.id);
      if (t?.trackingStatus === 'degraded') throw new Error(`platform: ${t.trackingError}`);
      if (t?.runId && t.pending === 0) runId = t.runId;
      if (Date.now() > until) throw new Error('platform: no run within 60 s');
    }
    const points = pointsOf(1_760_000_000_000);
    stats.calls = 0;
    stats.metrics = 0;
    stats.ms = 0;
    stats.first = 0;
    const deliveredBefore = dispatcher.state().delivered;
    claims.length = 0;

    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let writtenAt = 0;
    const writer = (async () => {
      for (let i = 0; i < points.length; i += PER_EVENT) {
        // The worker writes an event when a runtime's output arrives (an I/O callback), so the event loop
        // turns between two writes; embedded PGlite answers without I/O, so yield as the worker would.
        if (i > 0) await new Promise((r) => setImmediate(r));
        await db.repos.jobs.appendEvents([
          {
            jobId: job.id,
            type: 'metrics',
            actor,
            detail: { attempt: 1, seq: i + PER_EVENT, points: points.slice(i, i + PER_EVENT) },
          },
        ]);
      }
      writtenAt = performance.now();
    })();
    // Polling MLflow (or the database) while they work would slow delivery down: wait for the
    // dispatcher's own count of delivered rows (in memory), then ask MLflow. A row counts as delivered
    // only after its log-batch call returned.
    const events = Math.ceil(points.length / PER_EVENT);
    for (const until = Date.now() + 600_000; ; await new Promise((r) => setTimeout(r, 10))) {
      const drained = dispatcher.state().delivered - deliveredBefore >= events;
      if (drained && (await lastStepVisible(rest, runId))) break;
      if (Date.now() > until) throw new Error('platform: not every point reached MLflow within 600 s');
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(cpu0);
    await writer;
    const state = await db.repos.tracking.getJobTracking(job.id);
    return {
      seconds,
      cpu,
      writeSeconds: (writtenAt - t0) / 1000,
      calls: stats.calls,
      metrics: stats.metrics,
      callSeconds: stats.ms / 1000,
      firstCallSeconds: (stats.first - t0) / 1000,
      claims: claims.map((c) => `${c.rows}@${((c.at - t0) / 1000).toFixed(2)}s`),
      tailSeconds: seconds - (stats.last - t0) / 1000,
      runId,
      state,
    };
  } finally {
    await dispatcher.stop();
  }
}

async function main() {
  const db = await createTestDb();
  const mlflow = await startTestMlflow();
  const dir = await mkdtemp(join(tmpdir(), 'llmops-bench-metrics-'));
  try {
    const rest = restOf(mlflow.url);
    const client = createMlflowClient({ baseUrl: mlflow.url, timeoutMs: 30_000 });
    const home = await seedProject(db);
    const experimentId = (await client.ensureExperiment(`bench-direct-${randomUUID().slice(0, 8)}`))
      .experiment_id;
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const metricValues = POINTS * KEYS;
    out(
      `${POINTS} points × ${KEYS} keys = ${metricValues} metric values; ${PER_EVENT} points per job event; database ${DB}; MLflow ${mlflow.url}`,
    );
    const totals = { direct: 0, platform: 0, calls: 0, metrics: 0, claims: 0 };
    let ok = true;
    for (let round = 1; round <= ROUNDS; round++) {
      // Odd rounds send direct first, even rounds the platform first: neither always meets the fuller tables.
      const first = round % 2 === 1 ? 'direct' : 'platform';
      const p0 = first === 'platform' ? await platform(db, mlflow, rest, home.project.id, round, dir) : null;
      const d = await direct(client, rest, experimentId, round);
      const p = p0 ?? (await platform(db, mlflow, rest, home.project.id, round, dir));
      const [dc, pc] = [await countHistory(rest, d.runId), await countHistory(rest, p.runId)];
      const complete = (c: typeof dc) => c.min === POINTS && c.max === POINTS && c.duplicates === 0;
      ok &&= complete(dc) && complete(pc) && p.state?.pending === 0 && p.state.dead === 0;
      totals.direct += d.seconds;
      totals.platform += p.seconds;
      totals.calls += p.calls;
      totals.metrics += p.metrics;
      totals.claims += p.claims.length;
      out(
        `round ${round}: direct ${d.seconds.toFixed(2)} s (${Math.round(POINTS / d.seconds)} points/s, ${d.calls} log-batch calls, ${d.cpu.toFixed(2)} s CPU here)` +
          ` | platform ${p.seconds.toFixed(2)} s (${Math.round(POINTS / p.seconds)} points/s, ${p.cpu.toFixed(2)} s CPU here; events written in ${p.writeSeconds.toFixed(2)} s;` +
          ` ${p.calls} log-batch calls, mean ${(p.metrics / Math.max(1, p.calls)).toFixed(0)} metrics, ${p.callSeconds.toFixed(2)} s in them,` +
          ` the first after ${p.firstCallSeconds.toFixed(2)} s, ${p.tailSeconds.toFixed(2)} s after the last)` +
          ` (${first} first) | in MLflow per key: direct ${dc.min}, platform ${pc.min}..${pc.max}, duplicates ${dc.duplicates + pc.duplicates}`,
      );
      if (values.trace) out(`  claims (rows@time): ${p.claims.join(' ')}`);
    }
    const d = (POINTS * ROUNDS) / totals.direct;
    const p = (POINTS * ROUNDS) / totals.platform;
    const ratio = p / d;
    out('');
    out(`direct    ${Math.round(d)} points/s (${Math.round(d * KEYS)} metric values/s)`);
    out(`platform  ${Math.round(p)} points/s (${Math.round(p * KEYS)} metric values/s)`);
    out(
      `dispatcher: ${totals.claims} claims of ${((POINTS * ROUNDS) / PER_EVENT / Math.max(1, totals.claims)).toFixed(1)} rows on average; ${totals.calls} log-batch calls, mean batch ${(totals.metrics / Math.max(1, totals.calls)).toFixed(0)} metrics (${(totals.metrics / Math.max(1, totals.calls) / KEYS).toFixed(0)} points)`,
    );
    out(
      `ratio platform/direct ${ratio.toFixed(3)} — target ≥ ${TARGET}: ${ratio >= TARGET ? 'PASS' : 'FAIL'}`,
    );
    if (!ok) out('FAIL: not every point reached MLflow exactly once (see the counts above)');
    process.exitCode = ratio >= TARGET && ok ? 0 : 1;
  } finally {
    await mlflow.stop();
    await db.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
