import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackingDispatcher, FakeMlflow } from '@llmops/core';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartJobBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

const actor = 'system:worker';

describe(`experiment tracking API (${testDbKind()})`, () => {
  const fake = new FakeMlflow();
  let p: TestPlatform;
  let admin: Client;
  let ids: Awaited<ReturnType<typeof seedQuickstart>>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracking-api-'));
    p = await createTestPlatform({ mlflow: fake.api() });
    admin = p.as(p.adminToken);
    ids = await seedQuickstart(admin);
  });
  afterAll(async () => {
    await p.close();
    await rm(dir, { recursive: true, force: true });
  });

  const submit = async (): Promise<string> =>
    (await admin.post(`${API}/training/jobs`, quickstartJobBody(ids.modelId, ids.datasetId))).body.data.id;
  const deliver = async () => {
    const d = createTrackingDispatcher({
      db: p.db,
      mlflow: fake.api(),
      artifactsDir: join(dir, 'a'),
      runsDir: join(dir, 'r'),
    });
    for (let i = 0; i < 10; i++) if ((await d.tick()) === 0) return;
  };

  it('shows the run of a started job with its latest metrics, and the tracking state on the job', async () => {
    const jobId = await submit();
    const before = await admin.get(`${API}/training/jobs/${jobId}/experiment-run`);
    expect(before.status).toBe(404);
    expect(before.body.message).toMatch(/has no MLflow run yet/);

    await p.db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
    await p.db.repos.jobs.appendEvent({
      jobId,
      type: 'metrics',
      actor,
      detail: {
        points: [
          { step: 1, values: { loss: 3 }, ts: 1000 },
          { step: 2, values: { loss: 2.5 }, ts: 2000 },
        ],
      },
    });
    await deliver();
    const run = await admin.get(`${API}/training/jobs/${jobId}/experiment-run`);
    expect(run.status).toBe(200);
    expect(run.body.data).toMatchObject({
      status: 'RUNNING',
      metrics: { loss: 2.5 },
      tracking_status: 'ok',
      tracking_error: null,
      pending_rows: 0,
      model_version: null,
    });
    expect(run.body.data.ui_url).toContain(run.body.data.run_id);

    const job = await admin.get(`${API}/training/jobs/${jobId}`);
    expect(job.body.data.tracking).toMatchObject({
      status: 'ok',
      runId: run.body.data.run_id,
      pendingRows: 0,
    });
  });

  it('reports MLflow in the health checks with the outbox backlog, degraded when it is down', async () => {
    const up = await admin.get(`${API}/health`);
    expect(up.body.data.checks.mlflow).toMatchObject({ status: 'ok', latencyMs: 1, error: null });
    expect(up.body.data.checks.mlflow.backlog).toMatchObject({ pending: 0, rejected: 0 });
    fake.down = true;
    try {
      const down = await admin.get(`${API}/health`);
      expect(down.body.data.status).toBe('ok');
      expect(down.body.data.checks.mlflow).toMatchObject({ status: 'down', latencyMs: null });
      expect(down.body.data.checks.mlflow.error).toMatch(/tracking degraded/);
    } finally {
      fake.down = false;
    }
  });

  it('backfills ended jobs without a run (dry run first), and finds nothing the second time', async () => {
    const jobId = await submit();
    await p.db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
    await p.db.repos.jobs.transition({ id: jobId, from: ['RUNNING'], to: 'FAILED', actor });
    await p.db.repos.tracking.pruneEnded();

    const bad = await admin.post(`${API}/tracking/backfill`, { dry_run: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/dry_run/);
    expect(await p.db.repos.tracking.listRows(jobId)).toEqual([]);
    const dry = await admin.post(`${API}/tracking/backfill`, { dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.data.jobs).toEqual([{ job_id: jobId, status: 'FAILED', rows: 0 }]);
    expect(await p.db.repos.tracking.listRows(jobId)).toEqual([]);

    const real = await admin.post(`${API}/tracking/backfill`, {});
    expect(real.body.data).toMatchObject({ dry_run: false, rows: 2 });
    await deliver();
    const again = await admin.post(`${API}/tracking/backfill`, {});
    expect(again.body.data.jobs).toEqual([]);
    const run = await admin.get(`${API}/training/jobs/${jobId}/experiment-run`);
    expect(run.body.data.status).toBe('FAILED');

    // The bootstrap administrator administers the organisation: every project is in scope.
    const all = await admin.post(`${API}/tracking/backfill`, { all_projects: true });
    expect(all.status).toBe(200);
    expect(all.body.data.jobs).toEqual([]);
  });
});

describe(`experiment tracking API when tracking is disabled (${testDbKind()})`, () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await createTestPlatform();
  });
  afterAll(() => p.close());

  it('says so instead of answering with an empty run', async () => {
    const admin = p.as(p.adminToken);
    const ids = await seedQuickstart(admin);
    const jobId = (await admin.post(`${API}/training/jobs`, quickstartJobBody(ids.modelId, ids.datasetId)))
      .body.data.id;
    const run = await admin.get(`${API}/training/jobs/${jobId}/experiment-run`);
    expect(run.status).toBe(503);
    expect(run.body.message).toMatch(/tracking is not configured/);
    const health = await admin.get(`${API}/health`);
    expect(health.body.data.checks.mlflow.status).toBe('disabled');
    expect((await admin.get(`${API}/training/jobs/${jobId}`)).body.data.tracking).toBeNull();
  });
});
