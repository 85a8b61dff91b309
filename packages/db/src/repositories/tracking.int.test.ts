import { randomUUID } from 'node:crypto';
import { createTestDb, seedProject, testDbKind } from '@llmops/testing';
import type { SeededProject, TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDb;
let home: SeededProject;
beforeAll(async () => {
  db = await createTestDb();
  home = await seedProject(db);
});
afterAll(async () => {
  await db.cleanup();
});

async function newJob(): Promise<string> {
  const job = await db.repos.jobs.create({
    id: randomUUID(),
    projectId: home.project.id,
    submissionKind: 'finetune',
    jobType: 'SFT',
    spec: { jobType: 'finetune', trainJobSpec: { output: { artifact_name: 'm' } } },
    specHash: 'h',
    createdBy: 'test',
  });
  return job.id;
}

const actor = 'system:worker';

async function runToSuccess(jobId: string): Promise<void> {
  await db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
  await db.repos.jobs.appendEvent({
    jobId,
    type: 'metrics',
    actor,
    detail: { attempt: 1, seq: 3, points: [{ step: 1, values: { loss: 2 }, ts: 1000 }] },
  });
  await db.repos.jobs.appendEvent({ jobId, type: 'progress', actor, detail: { step: 1 } });
  await db.repos.jobs.appendEvent({ jobId, type: 'checkpoint', actor, detail: { step: 1, path: '/c/1' } });
  await db.repos.jobs.appendEvent({
    jobId,
    type: 'artifact',
    actor,
    detail: { kind: 'model', path: '/m', format: 'hf' },
  });
  await db.repos.jobs.transition({
    id: jobId,
    from: ['RUNNING'],
    to: 'SUCCEEDED',
    actor,
    detail: { attempt: 1, model: { id: 'x', name: 'm', version: '1', storageUri: 'file://m' } },
  });
}

describe(`tracking outbox (${testDbKind()})`, () => {
  it('writes outbox rows in the transaction of the events that cause them, in order', async () => {
    const jobId = await newJob();
    await runToSuccess(jobId);
    const rows = await db.repos.tracking.listRows(jobId);
    expect(rows.map((r) => r.kind)).toEqual([
      'run_start',
      'metrics',
      'checkpoint',
      'job_artifacts',
      'model_version',
      'run_end',
    ]);
    expect(rows[1]!.payload.points).toEqual([{ step: 1, values: { loss: 2 }, ts: 1000 }]);
    expect(rows[5]!.payload.status).toBe('SUCCEEDED');
    expect(rows[3]!.payload.model).toMatchObject({ name: 'm', version: '1' });
  });

  it('writes no outbox row when the event is rolled back', async () => {
    const jobId = await newJob();
    await expect(
      db.sql.transaction(async () => {
        await db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.repos.tracking.listRows(jobId)).toEqual([]);
  });

  it('claims a job once, holds it back while its head row is in backoff, deletes delivered rows, sets dead rows aside', async () => {
    const jobId = await newJob();
    await runToSuccess(jobId);
    expect(await db.repos.tracking.dueJobs(1000)).toContain(jobId);
    const [head, second] = await db.repos.tracking.claimBatch(jobId, 2);
    expect(head!.kind).toBe('run_start');
    expect(second!.kind).toBe('metrics');
    // Claimed: neither listed as due nor claimable by another dispatcher until released.
    expect(await db.repos.tracking.dueJobs(1000)).not.toContain(jobId);
    expect(await db.repos.tracking.claimBatch(jobId, 2)).toEqual([]);

    await db.repos.tracking.recordFailure(head!.id, 'connection refused', 60_000);
    expect(await db.repos.tracking.dueJobs(1000)).not.toContain(jobId);
    await expect(db.repos.tracking.recordFailure(head!.id, 'x', -1)).rejects.toThrow(/retry delay/);
    const [retried] = await db.repos.tracking.listRows(jobId);
    expect(retried).toMatchObject({ attempts: 1, lastError: 'connection refused' });

    await db.repos.tracking.recordFailure(head!.id, 'again', 0);
    expect(await db.repos.tracking.dueJobs(1000)).toContain(jobId);
    expect(await db.repos.tracking.markDelivered([head!.id])).toBe(1);

    await db.repos.tracking.deadLetter(second!.id, 'INVALID_PARAMETER_VALUE: bad key');
    const live = await db.repos.tracking.claimBatch(jobId, 100, 0);
    expect(live.map((r) => r.kind)).toEqual(['checkpoint', 'job_artifacts', 'model_version', 'run_end']);
    expect(await db.repos.tracking.listRows(jobId, { dead: true })).toHaveLength(1);

    await db.repos.tracking.markDegraded(jobId, 'MLflow unreachable');
    expect(await db.repos.tracking.getJobTracking(jobId)).toMatchObject({
      trackingStatus: 'degraded',
      trackingError: 'MLflow unreachable',
      pending: 4,
      dead: 1,
    });
    await db.repos.tracking.markOk(jobId);
    const after = await db.repos.tracking.getJobTracking(jobId);
    expect(after!.trackingStatus).toBe('ok');
    expect(after!.trackingError).toMatch(/1 outbox row\(s\) rejected by MLflow.*INVALID_PARAMETER_VALUE/);
  });

  it('rebuilds the rows of an ended job from its events, the same when run twice', async () => {
    const jobId = await newJob();
    await runToSuccess(jobId);
    const original = (await db.repos.tracking.listRows(jobId)).map((r) => [r.kind, r.payload]);
    expect(await db.repos.tracking.pruneEnded()).toBeGreaterThanOrEqual(6);
    expect(await db.repos.tracking.listRows(jobId)).toEqual([]);
    expect((await db.repos.tracking.getJobTracking(jobId))!.trackingStatus).toBe('disabled');
    expect((await db.repos.tracking.jobsWithoutRun()).map((j) => j.jobId)).toContain(jobId);

    expect(await db.repos.tracking.rebuildFromEvents(jobId)).toBe(6);
    expect(await db.repos.tracking.rebuildFromEvents(jobId)).toBe(6);
    const rebuilt = (await db.repos.tracking.listRows(jobId)).map((r) => [r.kind, r.payload]);
    expect(rebuilt).toEqual(original);

    await db.repos.tracking.setRun(jobId, { experimentId: '1', runId: 'r1' });
    expect((await db.repos.tracking.jobsWithoutRun()).map((j) => j.jobId)).not.toContain(jobId);
  });

  it('keeps the rows of running jobs when pruning', async () => {
    const jobId = await newJob();
    await db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'RUNNING', actor });
    await db.repos.tracking.pruneEnded();
    expect(await db.repos.tracking.listRows(jobId)).toHaveLength(1);
  });

  it('reports the backlog', async () => {
    const b = await db.repos.tracking.backlog();
    expect(b.pending).toBeGreaterThan(0);
    expect(b.oldestAgeSeconds).not.toBeNull();
  });
});
