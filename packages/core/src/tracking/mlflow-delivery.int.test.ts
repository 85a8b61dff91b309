import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlflowClient } from '@llmops/integrations-mlflow';
import {
  createTestDb,
  quickstartJobBody,
  seedProject,
  startTestMlflow,
  testDbKind,
  type SeededProject,
  type TestDb,
  type TestMlflow,
} from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackingDispatcher, JOB_ID_TAG, type TrackingDispatcher } from './dispatcher.ts';

// Delivery against a real MLflow server; every assertion reads MLflow's REST API with plain fetch.

let db: TestDb;
let mlflow: TestMlflow;
let home: SeededProject;
let dir: string;
let dispatcher: TrackingDispatcher;
const logLines: string[] = [];
const SHA = 'cd'.repeat(32);
const actor = 'system:worker';

beforeAll(async () => {
  [db, mlflow] = await Promise.all([createTestDb(), startTestMlflow()]);
  home = await seedProject(db);
  dir = await mkdtemp(join(tmpdir(), 'tracking-mlflow-'));
  dispatcher = createTrackingDispatcher({
    db,
    // A stopped server refuses connections at once; the timeout only bounds a hung one.
    mlflow: createMlflowClient({ baseUrl: mlflow.url, timeoutMs: 10_000 }),
    artifactsDir: join(dir, 'artifacts'),
    runsDir: join(dir, 'runs'),
    intervalMs: 100,
    maxBackoffMs: 1_000,
    log: (line) => logLines.push(line),
  });
  dispatcher.start();
}, 300_000);

afterAll(async () => {
  await dispatcher?.stop();
  await Promise.all([db?.cleanup(), mlflow?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

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

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `timed out waiting for ${what}; dispatcher: ${JSON.stringify(dispatcher.state())}; log: ${logLines.slice(-5).join(' | ')}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newJob(artifact: string): Promise<string> {
  const dataset = await db.repos.datasets.create({
    projectId: home.project.id,
    name: `ds-${artifact}`,
    version: 'v1',
    type: 'sft_pair',
    storageUri: 's3://datasets/x.jsonl',
    sha256: SHA,
    createdBy: 'test',
  });
  const body = quickstartJobBody('unused', dataset.id);
  const spec = {
    ...body,
    trainJobSpec: { ...body.trainJobSpec, output: { artifact_name: artifact, save_format: 'hf' } },
  };
  const job = await db.repos.jobs.create({
    id: randomUUID(),
    projectId: home.project.id,
    submissionKind: 'finetune',
    jobType: 'SFT',
    datasetId: dataset.id,
    spec,
    specHash: 'spec-hash-real',
    createdBy: 'user-1',
  });
  return job.id;
}

let emitted = 0;
async function emit(jobId: string, fromStep: number, count: number): Promise<void> {
  const points = Array.from({ length: count }, (_, i) => ({
    step: fromStep + i,
    values: { loss: 10 / (fromStep + i), 'grad norm!': fromStep + i },
    ts: 1_750_000_000_000 + (fromStep + i) * 10,
  }));
  emitted += count;
  await db.repos.jobs.appendEvent({ jobId, type: 'metrics', actor, detail: { attempt: 1, points } });
}

async function succeed(jobId: string, artifact: string): Promise<void> {
  const modelDir = join(dir, 'artifacts', 'models', home.project.id, artifact, jobId);
  await mkdir(modelDir, { recursive: true });
  await writeFile(join(modelDir, 'config.json'), '{"model_type":"llama"}');
  await mkdir(join(dir, 'runs', jobId, 'attempt-1'), { recursive: true });
  await writeFile(join(dir, 'runs', jobId, 'attempt-1', 'run.log'), 'trained\n');
  const model = await db.repos.models.create({
    projectId: home.project.id,
    name: artifact,
    modelFamily: 'llama',
    maxPositionEmbeddings: 128,
    parameterCount: 1000,
    storageUri: `s3://models/${home.project.id}/${artifact}/${jobId}`,
    metadata: { lineage: { datasetSha256: SHA, specHash: 'spec-hash-real', runtimeVersion: 'rt-9', jobId } },
    createdBy: actor,
  });
  await db.repos.jobs.transition({
    id: jobId,
    from: ['RUNNING'],
    to: 'SUCCEEDED',
    actor,
    detail: {
      attempt: 1,
      model: { id: model.id, name: artifact, version: '1', storageUri: model.storageUri },
    },
  });
}

async function runsOf(jobId: string): Promise<any[]> {
  const search = await rest<{ runs?: any[] }>('runs/search', {
    experiment_ids: [(await db.repos.tracking.getJobTracking(jobId))!.experimentId],
    filter: `tags.\`${JOB_ID_TAG}\` = '${jobId}'`,
    run_view_type: 'ALL',
  });
  return search.runs ?? [];
}

async function history(runId: string, key: string): Promise<{ step: number; value: number }[]> {
  const q = new URLSearchParams({ run_id: runId, metric_key: key, max_results: '25000' });
  return (
    (await rest<{ metrics?: { step: number; value: number }[] }>(`metrics/get-history?${q}`)).metrics ?? []
  );
}

describe(`tracking delivery to a real MLflow server (${testDbKind()})`, () => {
  it('survives MLflow stopping mid-job: one run, every metric point once, params, artifacts and the model version', async () => {
    const artifact = `tracked-${randomUUID().slice(0, 8)}`;
    const jobId = await newJob(artifact);
    const t0 = Date.now();
    await db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
    await waitFor('the run', async () => !!(await db.repos.tracking.getJobTracking(jobId))!.runId, 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    for (let s = 1; s <= 40; s += 10) await emit(jobId, s, 10);
    await waitFor(
      'the first metrics',
      async () => (await db.repos.tracking.getJobTracking(jobId))!.pending === 0,
    );

    await mlflow.halt();
    const downAt = Date.now();
    for (let s = 41; s <= 100; s += 20) await emit(jobId, s, 20);
    await waitFor(
      'degraded',
      async () => (await db.repos.tracking.getJobTracking(jobId))!.trackingStatus === 'degraded',
    );
    const degraded = await db.repos.tracking.getJobTracking(jobId);
    expect(degraded!.pending).toBeGreaterThan(0);
    expect(degraded!.trackingError).toMatch(/MLflow delivery failing/);
    await succeed(jobId, artifact); // the job ends while MLflow is still down
    while (Date.now() - downAt < 5_000) await new Promise((r) => setTimeout(r, 200));
    await mlflow.resume();

    // The dispatcher marks the job ok after its pass delivered the last rows: wait for that too.
    await waitFor(
      'the outbox to drain and tracking to be ok again',
      async () => {
        const t = (await db.repos.tracking.getJobTracking(jobId))!;
        return t.pending === 0 && t.modelVersion !== null && t.trackingStatus === 'ok';
      },
      90_000,
    );
    const tracking = (await db.repos.tracking.getJobTracking(jobId))!;
    expect(tracking).toMatchObject({ trackingStatus: 'ok', trackingError: null, dead: 0 });

    const runs = await runsOf(jobId);
    expect(runs).toHaveLength(1);
    const runId = runs[0].info.run_id as string;
    expect(runId).toBe(tracking.runId);
    const { run } = await rest<{ run: any }>(`runs/get?run_id=${runId}`);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.end_time).toBeGreaterThan(0);
    const params = Object.fromEntries(run.data.params.map((p: any) => [p.key, p.value]));
    expect(params['hyperparams.lr']).toBe('0.0001');
    expect(params['output.artifact_name']).toBe(artifact);
    const tags = Object.fromEntries(run.data.tags.map((t: any) => [t.key, t.value]));
    expect(tags[JOB_ID_TAG]).toBe(jobId);
    const input = run.inputs.dataset_inputs[0];
    expect(input.dataset).toMatchObject({ name: `ds-${artifact}@v1`, digest: SHA.slice(0, 36) });

    const loss = await history(runId, 'loss');
    expect(loss).toHaveLength(emitted);
    expect(new Set(loss.map((m) => m.step)).size).toBe(emitted);
    // A key MLflow would reject arrives sanitised.
    expect(await history(runId, 'grad norm_')).toHaveLength(emitted);

    const files = await rest<{ files?: { path: string }[] }>(`artifacts/list?run_id=${runId}&path=model`);
    expect(files.files?.map((f) => f.path)).toContain('model/config.json');
    const logs = await rest<{ files?: { path: string }[] }>(`artifacts/list?run_id=${runId}&path=logs`);
    expect(logs.files?.map((f) => f.path)).toContain('logs/attempt-1.log');

    const versions = await rest<{ model_versions?: any[] }>(
      `model-versions/search?filter=${encodeURIComponent(`name = '${artifact}'`)}`,
    );
    expect(versions.model_versions).toHaveLength(1);
    const v = versions.model_versions![0];
    expect(v).toMatchObject({ version: tracking.modelVersion, run_id: runId });
    expect(v.source).toMatch(/\/model$/);
    const vtags = Object.fromEntries(v.tags.map((t: any) => [t.key, t.value]));
    expect(vtags).toMatchObject({
      [JOB_ID_TAG]: jobId,
      'llmops.dataset_sha256': SHA,
      'llmops.spec_hash': 'spec-hash-real',
      'llmops.runtime_version': 'rt-9',
    });

    // Re-delivery of everything (a lost run id, the rows rebuilt): still one run, no duplicate point or version.
    await db.sql.query('UPDATE training_jobs SET mlflow_run_id = NULL WHERE id = $1', [jobId]);
    await db.repos.tracking.rebuildFromEvents(jobId);
    await waitFor('the re-delivery', async () => {
      const t = (await db.repos.tracking.getJobTracking(jobId))!;
      return t.pending === 0 && t.runId !== null;
    });
    expect(await runsOf(jobId)).toHaveLength(1);
    expect(await history(runId, 'loss')).toHaveLength(emitted);
    const again = await rest<{ model_versions?: any[] }>(
      `model-versions/search?filter=${encodeURIComponent(`name = '${artifact}'`)}`,
    );
    expect(again.model_versions).toHaveLength(1);
  }, 240_000);
});
