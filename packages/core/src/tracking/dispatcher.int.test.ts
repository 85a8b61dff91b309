import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDb, seedProject, testDbKind } from '@llmops/testing';
import type { SeededProject, TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackingDispatcher, experimentNameOf, JOB_ID_TAG } from './dispatcher.ts';
import type { Actor } from '../identity/actor.ts';
import { FakeMlflow } from './testing/fake-mlflow.ts';
import { createTrackingService } from './tracking.service.ts';

let db: TestDb;
let home: SeededProject;
let dir: string;
let artifactsDir: string;
let runsDir: string;
let datasetId: string;
const SHA = 'ab'.repeat(32);
const actor = 'system:worker';

beforeAll(async () => {
  db = await createTestDb();
  home = await seedProject(db);
  dir = await mkdtemp(join(tmpdir(), 'tracking-'));
  artifactsDir = join(dir, 'artifacts');
  runsDir = join(dir, 'runs');
  const ds = await db.repos.datasets.create({
    projectId: home.project.id,
    name: 'chat',
    version: '1',
    type: 'sft',
    storageUri: 's3://datasets/chat.jsonl',
    sha256: SHA,
    createdBy: 'test',
  });
  datasetId = ds.id;
});
afterAll(async () => {
  await db.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function newJob(artifact = 'tiny'): Promise<string> {
  const job = await db.repos.jobs.create({
    id: randomUUID(),
    projectId: home.project.id,
    submissionKind: 'finetune',
    jobType: 'SFT',
    datasetId,
    spec: {
      jobType: 'finetune',
      trainJobSpec: {
        job_type: 'SFT',
        dataset_ref: { name: 'chat', version: '1' },
        hyperparams: { lr: 0.001, batch_size: 2 },
        output: { artifact_name: artifact, save_format: 'hf' },
      },
    },
    specHash: 'spec-hash-1',
    createdBy: 'user-1',
  });
  return job.id;
}

async function start(jobId: string): Promise<void> {
  await db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
}

async function metrics(jobId: string, from: number, to: number, keys = ['loss']): Promise<void> {
  const points = [];
  for (let s = from; s <= to; s++)
    points.push({
      step: s,
      values: Object.fromEntries(keys.map((k) => [k, 1 / s])),
      ts: 1_700_000_000_000 + s,
    });
  await db.repos.jobs.appendEvent({ jobId, type: 'metrics', actor, detail: { attempt: 1, points } });
}

async function succeed(jobId: string, artifact = 'tiny'): Promise<string> {
  const modelDir = join(artifactsDir, 'models', home.project.id, artifact, jobId);
  await mkdir(modelDir, { recursive: true });
  await writeFile(join(modelDir, 'config.json'), '{"model_type":"llama"}');
  await mkdir(join(modelDir, 'tok'), { recursive: true });
  await writeFile(join(modelDir, 'tok', 'tokenizer.json'), '{}');
  await mkdir(join(runsDir, jobId, 'attempt-1'), { recursive: true });
  await writeFile(join(runsDir, jobId, 'attempt-1', 'run.log'), 'step 1\n');
  const model = await db.repos.models.create({
    projectId: home.project.id,
    name: artifact,
    version: String(Date.now()),
    modelFamily: 'llama',
    maxPositionEmbeddings: 128,
    parameterCount: 1000,
    storageUri: `s3://models/${home.project.id}/${artifact}/${jobId}`,
    metadata: { lineage: { datasetSha256: SHA, specHash: 'spec-hash-1', runtimeVersion: 'rt-1', jobId } },
    createdBy: actor,
  });
  await db.repos.jobs.transition({
    id: jobId,
    from: ['RUNNING'],
    to: 'SUCCEEDED',
    actor,
    detail: {
      attempt: 1,
      model: { id: model.id, name: artifact, version: model.version, storageUri: model.storageUri },
    },
  });
  return model.id;
}

function dispatcher(fake: FakeMlflow) {
  return createTrackingDispatcher({ db, mlflow: fake.api(), artifactsDir, runsDir, maxBackoffMs: 0 });
}

async function drain(d: ReturnType<typeof dispatcher>): Promise<void> {
  for (let i = 0; i < 20; i++) if ((await d.tick()) === 0) return;
}

describe(`tracking dispatcher (${testDbKind()})`, () => {
  it('creates one run with params, dataset input and metrics, then artifacts, a model version and the end', async () => {
    const fake = new FakeMlflow();
    const d = dispatcher(fake);
    const jobId = await newJob();
    await start(jobId);
    await d.tick();
    const tracking = await db.repos.tracking.getJobTracking(jobId);
    expect(tracking!.runId).toMatch(/^run/);
    const run = fake.runs.get(tracking!.runId!)!;
    expect(fake.experiments.get(run.info.experiment_id)!.name).toBe(
      experimentNameOf(home.org.slug, home.project.slug),
    );
    expect(run.tags.get(JOB_ID_TAG)).toBe(jobId);
    expect(run.params.get('hyperparams.lr')).toBe('0.001');
    expect(run.inputs[0]!.dataset).toMatchObject({ name: 'chat@1', digest: SHA.slice(0, 36) });
    expect(run.inputs[0]!.tags).toContainEqual({ key: 'mlflow.data.context', value: 'training' });

    await metrics(jobId, 1, 1500, ['loss', 'lr']);
    await metrics(jobId, 1501, 1600, ['loss', 'lr']);
    const modelId = await succeed(jobId);
    await drain(d);

    expect(run.metrics).toHaveLength(3200);
    expect(run.metrics.filter((m) => m.key === 'loss').map((m) => m.step)).toEqual(
      Array.from({ length: 1600 }, (_, i) => i + 1),
    );
    expect(run.metrics[0]!.timestamp).toBe(1_700_000_000_001);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.end_time).toBeGreaterThan(0);
    const keys = [...fake.artifacts.keys()].filter((k) => k.startsWith(run.info.run_id));
    expect(keys.sort()).toEqual(
      [`model/config.json`, `model/tok/tokenizer.json`, `logs/attempt-1.log`]
        .map((p) => `${run.info.run_id}/${p}`)
        .sort(),
    );
    expect(fake.versions).toHaveLength(1);
    expect(fake.versions[0]).toMatchObject({
      name: 'tiny',
      run_id: run.info.run_id,
      source: `${run.info.artifact_uri}/model`,
    });
    expect(fake.versions[0]!.tags).toEqual(
      expect.arrayContaining([
        { key: JOB_ID_TAG, value: jobId },
        { key: 'llmops.dataset_sha256', value: SHA },
        { key: 'llmops.spec_hash', value: 'spec-hash-1' },
        { key: 'llmops.runtime_version', value: 'rt-1' },
      ]),
    );
    const after = await db.repos.tracking.getJobTracking(jobId);
    expect(after).toMatchObject({ modelVersion: '1', pending: 0, dead: 0, trackingStatus: 'ok' });
    const [catalog] = await db.sql.query<{ mlflow_model_version: string }>(
      'SELECT mlflow_model_version FROM catalog_models WHERE id = $1',
      [modelId],
    );
    expect(catalog!.mlflow_model_version).toBe('1');

    // The read side answers from MLflow.
    const service = createTrackingService({ db, mlflow: fake.api() });
    const view = await service.experimentRun(home.project.id, jobId);
    expect(view).toMatchObject({ runId: run.info.run_id, status: 'FINISHED', modelVersion: '1' });
    expect(view.metrics.loss).toBeCloseTo(1 / 1600);
    expect(view.uiUrl).toContain(run.info.run_id);
  });

  it('stays degraded while MLflow is down, keeps the rows, then delivers everything exactly once', async () => {
    const fake = new FakeMlflow();
    const d = dispatcher(fake);
    const jobId = await newJob();
    await start(jobId);
    await metrics(jobId, 1, 10);
    await d.tick();
    fake.down = true;
    await metrics(jobId, 11, 20);
    await d.tick();
    let t = await db.repos.tracking.getJobTracking(jobId);
    expect(t).toMatchObject({ trackingStatus: 'degraded', pending: 1 });
    expect(t!.trackingError).toMatch(/MLflow is down/);
    expect(d.state().delivering).toBe(false);
    const health = await createTrackingService({ db, mlflow: fake.api(), dispatcher: d.state }).health();
    expect(health.status).toBe('down');
    expect(health.error).toMatch(/tracking degraded/);
    expect(health.backlog!.pending).toBeGreaterThan(0);

    await metrics(jobId, 21, 30);
    await succeed(jobId);
    await d.tick();
    fake.down = false;
    await drain(d);
    t = await db.repos.tracking.getJobTracking(jobId);
    expect(t).toMatchObject({ trackingStatus: 'ok', trackingError: null, pending: 0 });
    const runs = [...fake.runs.values()].filter((r) => r.tags.get(JOB_ID_TAG) === jobId);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.metrics.map((m) => m.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(runs[0]!.info.status).toBe('FINISHED');
  });

  it('finds the run by its job tag instead of creating a second one, and re-delivery adds no duplicate', async () => {
    const fake = new FakeMlflow();
    const jobId = await newJob();
    await start(jobId);
    await metrics(jobId, 1, 5);
    await dispatcher(fake).tick();
    // A platform that lost the run id (crash before storing it) and re-delivers the same rows.
    await db.sql.query('UPDATE training_jobs SET mlflow_run_id = NULL WHERE id = $1', [jobId]);
    await db.repos.tracking.rebuildFromEvents(jobId);
    await drain(dispatcher(fake));
    const runs = [...fake.runs.values()].filter((r) => r.tags.get(JOB_ID_TAG) === jobId);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.metrics).toHaveLength(5);
    expect(fake.calls.filter((c) => c === 'createRun')).toHaveLength(1);
  });

  it('sets a row MLflow rejects aside with a clear message; the rest of the queue is delivered', async () => {
    const fake = new FakeMlflow();
    fake.rejectKey = (k) => k === 'poison';
    const d = dispatcher(fake);
    const jobId = await newJob();
    await start(jobId);
    await metrics(jobId, 1, 3);
    await metrics(jobId, 4, 4, ['poison']);
    await metrics(jobId, 5, 6);
    await drain(d);
    const t = await db.repos.tracking.getJobTracking(jobId);
    expect(t).toMatchObject({ pending: 0, dead: 1, trackingStatus: 'ok' });
    expect(t!.trackingError).toMatch(/1 outbox row\(s\) rejected by MLflow.*invalid metric name 'poison'/);
    const [dead] = await db.repos.tracking.listRows(jobId, { dead: true });
    expect(dead!.payload.points).toEqual([{ step: 4, values: { poison: 0.25 }, ts: 1_700_000_000_004 }]);
    const run = fake.runs.get(t!.runId!)!;
    expect(run.metrics.map((m) => m.step)).toEqual([1, 2, 3, 5, 6]);
  });

  it('ends the run KILLED or FAILED and uploads nothing for a job that did not succeed', async () => {
    const fake = new FakeMlflow();
    const d = dispatcher(fake);
    const cancelled = await newJob();
    await start(cancelled);
    await db.repos.jobs.transition({ id: cancelled, from: ['RUNNING'], to: 'CANCELLED', actor: 'user-1' });
    const failed = await newJob();
    await start(failed);
    await db.repos.jobs.transition({ id: failed, from: ['RUNNING'], to: 'FAILED', actor });
    await drain(d);
    const statusOf = async (id: string) =>
      fake.runs.get((await db.repos.tracking.getJobTracking(id))!.runId!)!.info.status;
    expect(await statusOf(cancelled)).toBe('KILLED');
    expect(await statusOf(failed)).toBe('FAILED');
    // A retry runs the job again under the same run.
    await db.repos.jobs.transition({ id: failed, from: ['FAILED'], to: 'RUNNING', actor });
    await drain(d);
    expect(await statusOf(failed)).toBe('RUNNING');
    expect([...fake.runs.values()].filter((r) => r.tags.get(JOB_ID_TAG) === failed)).toHaveLength(1);
    expect(fake.artifacts.size).toBe(0);
    expect(fake.versions).toHaveLength(0);
  });

  it('backfills ended jobs without a run, idempotently; a dry run changes nothing', async () => {
    const fake = new FakeMlflow();
    const jobId = await newJob('backfilled');
    await start(jobId);
    await metrics(jobId, 1, 4);
    await succeed(jobId, 'backfilled');
    await db.repos.tracking.pruneEnded();
    expect((await db.repos.tracking.getJobTracking(jobId))!.trackingStatus).toBe('disabled');

    const service = createTrackingService({ db, mlflow: fake.api() });
    const admin: Actor = {
      userId: home.user.id,
      userName: 'admin',
      tokenId: 't',
      orgAdmin: false,
      project: { id: home.project.id, slug: home.project.slug, organisationId: home.org.id },
      role: 'admin',
    };
    await expect(service.backfill({ ...admin, role: 'editor' }, { dryRun: true })).rejects.toThrow(
      /'admin' role/,
    );
    await expect(service.backfill(admin, { dryRun: true, allProjects: true })).rejects.toThrow(
      /organisation administrators/,
    );
    const dry = await service.backfill(admin, { dryRun: true });
    expect(dry.jobs.map((j) => j.jobId)).toContain(jobId);
    expect(await db.repos.tracking.listRows(jobId)).toEqual([]);

    const seen: string[] = [];
    const report = await service.backfill(admin, { onProgress: (item) => seen.push(item.jobId) });
    expect(seen).toContain(jobId);
    expect(report.jobs.find((j) => j.jobId === jobId)!.rows).toBe(5);
    await drain(dispatcher(fake));
    const again = await service.backfill(admin);
    expect(again.jobs.map((j) => j.jobId)).not.toContain(jobId);
    await drain(dispatcher(fake));

    const runs = [...fake.runs.values()].filter((r) => r.tags.get(JOB_ID_TAG) === jobId);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.metrics).toHaveLength(4);
    expect(runs[0]!.info.status).toBe('FINISHED');
    expect(fake.versions.filter((v) => v.name === 'backfilled')).toHaveLength(1);
    expect((await db.repos.tracking.getJobTracking(jobId))!.trackingStatus).toBe('ok');

    const disabled = createTrackingService({ db, mlflow: null });
    await expect(disabled.backfill(admin)).rejects.toThrow(/tracking is disabled/);
    await expect(disabled.experimentRun(home.project.id, jobId)).rejects.toThrow(/tracking is disabled/);
  });

  it('answers clearly when the job has no run yet or does not exist', async () => {
    const service = createTrackingService({ db, mlflow: new FakeMlflow().api() });
    const jobId = await newJob();
    await expect(service.experimentRun(home.project.id, jobId)).rejects.toThrow(/has no MLflow run yet/);
    await expect(service.experimentRun(home.project.id, randomUUID())).rejects.toThrow(/not found/);
  });

  it('runs as a loop: a started job gets its run within a second', async () => {
    const fake = new FakeMlflow();
    const d = createTrackingDispatcher({ db, mlflow: fake.api(), artifactsDir, runsDir, intervalMs: 100 });
    d.start();
    try {
      const jobId = await newJob();
      await start(jobId);
      const t0 = Date.now();
      while (!(await db.repos.tracking.getJobTracking(jobId))!.runId && Date.now() - t0 < 5000)
        await new Promise((r) => setTimeout(r, 50));
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await d.stop();
    }
  });
});
