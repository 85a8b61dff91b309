import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackingDispatcher, mlflowFromEnv, type TrackingDispatcher } from '@llmops/core';
import { quickstartJobBody, startTestMlflow, testDbKind, type TestMlflow } from '@llmops/testing';
import { API, createTestPlatform, type Client, type TestPlatform } from '../../testing/test-platform.ts';

/**
 * The registry and the experiments API over what the tracking dispatcher writes: two training jobs of
 * the project succeed, the dispatcher creates their runs and model versions in a real MLflow server, and
 * the platform finds, promotes and compares them. Alias assertions read MLflow with plain fetch.
 */
const ARTIFACT = `chat-sft-${randomUUID().slice(0, 6)}`;
const SHA = 'ab'.repeat(32);
const actor = 'system:worker';

let mlflow: TestMlflow;
let p: TestPlatform;
let admin: Client;
let dispatcher: TrackingDispatcher;
let dir: string;
let projectId: string;
const jobs: string[] = [];

async function aliasInMlflow(alias: string): Promise<string | null> {
  const q = new URLSearchParams({ name: ARTIFACT, alias });
  const res = await fetch(`${mlflow.url}/api/2.0/mlflow/registered-models/alias?${q}`);
  const body = (await res.json()) as any;
  if (res.status === 404 || (res.status === 400 && /not found/i.test(body.message))) return null;
  expect(res.status).toBe(200);
  return body.model_version.version;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One training job of the project, from submission to a registered catalog model, as the worker records it. */
async function trainedJob(lr: number): Promise<string> {
  const { repos } = p.db;
  const dataset =
    (await repos.datasets.getByNameVersion(projectId, 'chat-pairs', 'v1')) ??
    (await repos.datasets.create({
      projectId,
      name: 'chat-pairs',
      version: 'v1',
      type: 'sft_pair',
      storageUri: 's3://datasets/chat.jsonl',
      sha256: SHA,
      createdBy: 'test',
    }));
  const body = quickstartJobBody('unused', dataset.id);
  const spec = {
    ...body,
    trainJobSpec: {
      ...body.trainJobSpec,
      hyperparams: { ...body.trainJobSpec.hyperparams, learning_rate: lr },
      output: { artifact_name: ARTIFACT, save_format: 'hf' },
    },
  };
  const job = await repos.jobs.create({
    id: randomUUID(),
    projectId,
    submissionKind: 'finetune',
    jobType: 'SFT',
    datasetId: dataset.id,
    spec,
    specHash: `spec-${lr}`,
    createdBy: 'user-1',
  });
  await repos.jobs.transition({ id: job.id, from: ['QUEUED'], to: 'RUNNING', actor });
  const points = [0, 10, 20].map((step) => ({
    step,
    values: { loss: 2 - step / 20 + lr },
    ts: 1_750_000_000_000 + step,
  }));
  await repos.jobs.appendEvent({ jobId: job.id, type: 'metrics', actor, detail: { attempt: 1, points } });
  const modelDir = join(dir, 'artifacts', 'models', projectId, ARTIFACT, job.id);
  await mkdir(modelDir, { recursive: true });
  await writeFile(join(modelDir, 'config.json'), '{"model_type":"llama"}');
  await mkdir(join(dir, 'runs', job.id, 'attempt-1'), { recursive: true });
  await writeFile(join(dir, 'runs', job.id, 'attempt-1', 'run.log'), 'trained\n');
  const model = await repos.models.create({
    projectId,
    name: ARTIFACT,
    version: job.id.slice(0, 8),
    modelFamily: 'llama',
    maxPositionEmbeddings: 128,
    parameterCount: 1000,
    storageUri: `s3://models/${projectId}/${ARTIFACT}/${job.id}`,
    metadata: {
      lineage: { datasetSha256: SHA, specHash: `spec-${lr}`, runtimeVersion: 'rt-1', jobId: job.id },
    },
    createdBy: actor,
  });
  await repos.jobs.transition({
    id: job.id,
    from: ['RUNNING'],
    to: 'SUCCEEDED',
    actor,
    detail: {
      attempt: 1,
      model: { id: model.id, name: ARTIFACT, version: '1', storageUri: model.storageUri },
    },
  });
  await waitFor(`the model version of job ${job.id}`, async () => {
    const t = await repos.tracking.getJobTracking(job.id);
    return t !== null && t.pending === 0 && t.modelVersion !== null;
  });
  return job.id;
}

describe(`registry over versions the tracking dispatcher registered (${testDbKind()})`, () => {
  beforeAll(async () => {
    mlflow = await startTestMlflow();
    const api = mlflowFromEnv({ MLFLOW_ENABLED: true, MLFLOW_TRACKING_URI: mlflow.url })!;
    p = await createTestPlatform({ mlflow: api });
    admin = p.as(p.adminToken, 'default');
    projectId = (await admin.get(`${API}/whoami`)).body.data.project.id;
    dir = await mkdtemp(join(tmpdir(), 'registry-tracked-'));
    dispatcher = createTrackingDispatcher({
      db: p.db,
      mlflow: api,
      artifactsDir: join(dir, 'artifacts'),
      runsDir: join(dir, 'runs'),
      intervalMs: 100,
    });
    dispatcher.start();
    jobs.push(await trainedJob(0.001), await trainedJob(0.002));
  }, 600_000);
  afterAll(async () => {
    await dispatcher?.stop();
    await p?.close();
    await mlflow?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the versions with the jobs that produced them, promotes and rolls back', async () => {
    const models = await admin.get(`${API}/registry/models?search=${ARTIFACT}`);
    expect(models.body.data.items.map((m: any) => m.name)).toEqual([ARTIFACT]);
    const versions = await admin.get(`${API}/registry/models/${ARTIFACT}/versions`);
    expect(versions.body.data.items.map((v: any) => [v.version, v.lineage.jobId])).toEqual([
      ['2', jobs[1]],
      ['1', jobs[0]],
    ]);
    expect(versions.body.data.items[0].lineage).toMatchObject({
      projectId,
      datasetDigest: SHA,
      specHash: 'spec-0.002',
      runtimeVersion: 'rt-1',
    });

    await admin.post(`${API}/registry/models/${ARTIFACT}/promote`, { version: '1', stage: 'staging' });
    expect(await aliasInMlflow('staging')).toBe('1');
    await admin.post(`${API}/registry/models/${ARTIFACT}/promote`, { version: '2', stage: 'staging' });
    expect(await aliasInMlflow('staging')).toBe('2');
    const back = await admin.post(`${API}/registry/models/${ARTIFACT}/rollback`, { stage: 'staging' });
    expect(back.status).toBe(200);
    expect(await aliasInMlflow('staging')).toBe('1');
  });

  it("finds the jobs' runs by model and dataset and compares them", async () => {
    const byModel = await admin.get(`${API}/experiments/runs?model=${ARTIFACT}`);
    expect(byModel.status).toBe(200);
    const runs = byModel.body.data.items as any[];
    expect(runs.map((r) => r.jobId)).toEqual([...jobs].reverse());
    const byDataset = await admin.get(`${API}/experiments/runs?dataset=chat-pairs`);
    expect(byDataset.body.data.items).toHaveLength(2);
    const bySha = await admin.get(`${API}/experiments/runs?dataset=${SHA}`);
    expect(bySha.body.data.items).toHaveLength(2);

    const cmp = await admin.post(`${API}/experiments/compare`, { run_ids: runs.map((r) => r.runId) });
    expect(cmp.status).toBe(200);
    const differing = (cmp.body.data.params as any[]).filter((x) => x.differs).map((x) => x.key);
    expect(differing.some((k) => /learning_rate/.test(k))).toBe(true);
    const loss = (cmp.body.data.metrics as any[]).find((m) => m.key === 'loss');
    expect(loss.steps.map((s: any) => s.step)).toEqual([0, 10, 20]);
  });
});
