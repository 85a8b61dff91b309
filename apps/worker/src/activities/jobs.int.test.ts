import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDb, seedProject, type TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTrainingJob } from '../testing/fixtures.ts';
import { createJobActivities } from './jobs.ts';

describe('job activities repeated with the same operation key', () => {
  let t: TestDb;
  let dir: string;
  let projectId: string;
  beforeAll(async () => {
    t = await createTestDb();
    dir = await mkdtemp(join(tmpdir(), 'llmops-jobs-'));
    projectId = (await seedProject(t)).project.id;
  });
  afterAll(async () => {
    await t?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('a transition and an event that run again after the job moved on change nothing', async () => {
    const job = await seedTrainingJob(t, { projectId, artifactsDir: dir });
    const acts = createJobActivities({ db: t });
    const admit = {
      jobId: job.id,
      from: ['QUEUED' as const],
      to: 'ADMITTED' as const,
      actor: 'a',
      op: 'run/1',
    };
    const started = {
      jobId: job.id,
      type: 'attempt_started',
      actor: 'w',
      detail: { attempt: 1 },
      op: 'run/2',
    };
    const run = {
      jobId: job.id,
      from: ['ADMITTED' as const],
      to: 'RUNNING' as const,
      actor: 'w',
      op: 'run/3',
    };
    await acts.transitionJob(admit);
    await acts.recordJobEvent(started);
    await acts.transitionJob(run);
    // The same three writes again, as when their workflow task timed out after they ran.
    await acts.transitionJob(admit);
    await acts.recordJobEvent(started);
    await acts.transitionJob(run);

    const events = await t.repos.jobs.listEvents(job.id);
    expect(events.filter((e) => e.detail.op === 'run/1')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'attempt_started')).toHaveLength(1);
    expect((await t.repos.jobs.listAll({ jobId: job.id }))[0]!.status).toBe('RUNNING');
  });

  it('a transition with a new key from a stale state is still refused', async () => {
    const job = await seedTrainingJob(t, { projectId, artifactsDir: dir });
    const acts = createJobActivities({ db: t });
    await acts.transitionJob({ jobId: job.id, from: ['QUEUED'], to: 'ADMITTED', actor: 'a', op: 'x/1' });
    await acts.transitionJob({ jobId: job.id, from: ['ADMITTED'], to: 'RUNNING', actor: 'a', op: 'x/2' });
    await expect(
      acts.transitionJob({ jobId: job.id, from: ['QUEUED'], to: 'ADMITTED', actor: 'a', op: 'x/3' }),
    ).rejects.toThrow('is RUNNING; expected QUEUED before moving to ADMITTED');
  });
});
