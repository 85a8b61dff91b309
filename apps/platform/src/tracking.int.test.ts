import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { startTestMlflow, type TestMlflow } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  killLeftoverRuns,
  linkPythonEnv,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from './testing/platform-process.ts';

// The whole path against real services: the platform process (API + worker + local executor) on a
// Temporal dev server, the runtime in its synthetic mode, and a real MLflow server that is stopped in
// the middle of the job. Every MLflow assertion reads MLflow's REST API with plain fetch.

let dir: string;
let home: string;
let server: DevServer;
let mlflow: TestMlflow;
let platform: PlatformProcess | null = null;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-tracking-e2e-'));
  home = join(dir, 'home');
  await linkPythonEnv(home);
  const cli = await resolveTemporalCli({ home: testHome(), dev: true });
  [server, mlflow] = await Promise.all([
    startTemporalDevServer({ cli, headless: true, dbFile: join(dir, 'temporal.db') }),
    startTestMlflow(),
  ]);
}, 300_000);

afterAll(async () => {
  await platform?.kill9();
  if (home) await killLeftoverRuns(join(home, 'runs'));
  await Promise.all([server?.stop(), mlflow?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

async function rest<T = any>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${mlflow.url}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

interface MetricLine {
  type: string;
  step?: number;
  values?: Record<string, number>;
}

describe('experiment tracking end to end', () => {
  it('a job runs through an MLflow outage: it succeeds, one run, every emitted metric point once, the model version', async () => {
    const token = 'tracking-e2e-bootstrap-token';
    platform = await startPlatformProcess({
      home,
      temporalAddress: server.address,
      token,
      env: {
        // 80 steps of 300 ms, a checkpoint every 20 steps.
        LLMOPS_SYNTHETIC_RUNS: '80x300@20',
        EXPERIMENT_TRACKING_ENABLED: 'true',
        MLFLOW_ENABLED: 'true',
        MLFLOW_TRACKING_URI: mlflow.url,
      },
    });
    const api = apiClient(platform);
    const call = async <T = any>(path: string): Promise<{ status: number; data: T }> => {
      const r = await fetch(`${platform!.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, data: ((await r.json()) as { data: T }).data };
    };
    await api.uploadCorpus();
    const job = await api.submitPretrain('tracked-lm');

    // The run exists within 5 s of the job starting.
    const running = await waitFor(
      'RUNNING',
      async () => (await api.events(job.id)).find((e) => e.toStatus === 'RUNNING'),
      60_000,
    );
    const run = await waitFor(
      'the MLflow run',
      async () => {
        const r = await call<{ run_id: string; experiment_id: string }>(
          `/training/jobs/${job.id}/experiment-run`,
        );
        return r.status === 200 ? r.data : null;
      },
      10_000,
      100,
    );
    const { run: mlRun } = await rest<{ run: any }>(`runs/get?run_id=${run.run_id}`);
    expect(mlRun.info.start_time - Date.parse(running.createdAt)).toBeLessThan(5_000);
    const seenAt = Date.now();
    expect(seenAt - Date.parse(running.createdAt)).toBeLessThan(5_000);

    // MLflow goes away mid-job.
    await waitFor(
      'step 20',
      async () => {
        const r = await call<{ tracking: { pendingRows: number } }>(`/training/jobs/${job.id}`);
        const events = await api.events(job.id);
        return events.some((e) => e.type === 'progress' && Number(e.detail.step) >= 20) && r.data.tracking;
      },
      60_000,
    );
    await mlflow.halt();
    const degraded = await waitFor(
      'tracking degraded',
      async () => {
        const r = await call<{ tracking: { status: string; error: string | null } }>(
          `/training/jobs/${job.id}`,
        );
        return r.data.tracking.status === 'degraded' ? r.data.tracking : null;
      },
      30_000,
    );
    expect(degraded.error).toMatch(/MLflow/);
    const health = await call<{ status: string; checks: Record<string, any> }>('/health');
    expect(health.data.status).toBe('ok');
    expect(health.data.checks.mlflow.status).toBe('down');
    expect(health.data.checks.mlflow.error).toMatch(/tracking degraded/);
    expect(health.data.checks.mlflow.backlog.pending).toBeGreaterThan(0);

    // The job finishes while MLflow is still down.
    await waitFor('SUCCEEDED', async () => (await api.job(job.id)).status === 'SUCCEEDED', 120_000, 500);
    await mlflow.resume();
    const tracking = await waitFor(
      'delivery after MLflow is back',
      async () => {
        const r = await call<{ tracking: any }>(`/training/jobs/${job.id}`);
        const t = r.data.tracking;
        return t.status === 'ok' && t.pendingRows === 0 && t.modelVersion ? t : null;
      },
      120_000,
      500,
    );
    expect(tracking).toMatchObject({ runId: run.run_id, rejectedRows: 0, error: null });

    // What the runtime emitted, from the attempt's event file.
    const lines = (await readFile(join(home, 'runs', job.id, 'attempt-1', 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricLine)
      .filter((e) => e.type === 'metric');
    expect(lines.length).toBe(80);
    const keys = Object.keys(lines[0]!.values!);

    const runs = await rest<{ runs?: any[] }>('runs/search', {
      experiment_ids: [run.experiment_id],
      filter: `tags.\`llmops.job_id\` = '${job.id}'`,
      run_view_type: 'ALL',
    });
    expect(runs.runs).toHaveLength(1);
    for (const key of keys) {
      const q = new URLSearchParams({ run_id: run.run_id, metric_key: key, max_results: '25000' });
      const history =
        (await rest<{ metrics?: { step: number }[] }>(`metrics/get-history?${q}`)).metrics ?? [];
      expect(history).toHaveLength(lines.length);
      expect(new Set(history.map((m) => m.step)).size).toBe(lines.length);
    }
    const { run: ended } = await rest<{ run: any }>(`runs/get?run_id=${run.run_id}`);
    expect(ended.info.status).toBe('FINISHED');
    const params = Object.fromEntries(ended.data.params.map((p: any) => [p.key, p.value]));
    expect(params['hyperparams.lr']).toBe('0.003');
    expect(params['output.artifact_name']).toBe('tracked-lm');
    expect(ended.inputs.dataset_inputs[0].dataset.name).toBe('corpus@v1');

    const files = await rest<{ files?: { path: string }[] }>(
      `artifacts/list?run_id=${run.run_id}&path=model`,
    );
    expect(files.files?.length).toBeGreaterThan(0);
    const versions = await rest<{ model_versions?: any[] }>(
      `model-versions/search?filter=${encodeURIComponent("name = 'tracked-lm'")}`,
    );
    expect(versions.model_versions).toHaveLength(1);
    expect(versions.model_versions![0]).toMatchObject({ run_id: run.run_id, version: tracking.modelVersion });
    const vtags = Object.fromEntries(versions.model_versions![0].tags.map((t: any) => [t.key, t.value]));
    expect(vtags['llmops.job_id']).toBe(job.id);
    expect(vtags['llmops.runtime_version']).not.toBe('unknown');
  }, 420_000);
});
