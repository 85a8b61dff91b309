import { seedProject } from '@llmops/testing';
import { describe, expect, it } from 'vitest';
import type { FakeAttemptScript } from './testing/fake-executor.ts';
import { checkAndRecordHistory, temporalSuite, type Scenario } from './testing/harness.ts';

// Admission (priorities, fair share between projects, queue positions) with capacity 1,
// on a real Temporal dev server, with a simulated runtime (FakeExecutor) so that every scenario is fast
// and deterministic; local-runtime.int.test.ts runs the same workflows on real runtime processes.

const FAST: FakeAttemptScript = { steps: 12, stepMs: 20, checkpointEvery: 5 };
const SLOW: FakeAttemptScript = { steps: 400, stepMs: 50, checkpointEvery: 5 };

const suite = temporalSuite();

function admissionId(s: Scenario): string {
  return `llmops-admission/${s.taskQueue}`;
}

describe('admission', () => {
  it('orders the queue by priority, and a priority change reorders it (capacity 1, three jobs)', async () => {
    let blocker = '';
    const { s } = await suite.fake((jobId) => (jobId === blocker ? SLOW : FAST), { maxConcurrentRuns: 1 });
    const a = await s.seedJob();
    const b = await s.seedJob();
    const c = await s.seedJob();
    blocker = a.id;
    await s.orchestrator.start(a.id);
    await s.waitForStatus(a.id, 'RUNNING');
    await s.orchestrator.start(b.id);
    await s.orchestrator.start(c.id);
    await s.waitFor('two queued', async () => (await s.queue()).queued.length === 2);
    expect(await s.orchestrator.queuePosition(b.id)).toEqual({ position: 1, estimatedStart: null });
    expect((await s.orchestrator.queuePosition(c.id)).position).toBe(2);

    await s.orchestrator.setPriority(c.id, 90, 'user:erin');
    await s.waitFor('c first', async () => (await s.orchestrator.queuePosition(c.id)).position === 1);
    expect((await s.orchestrator.queuePosition(b.id)).position).toBe(2);
    expect((await s.events(c.id, 'priority_changed'))[0]).toMatchObject({
      actor: 'user:erin',
      detail: { from: 50, to: 90 },
    });
    expect((await s.db.repos.jobs.getById(c.projectId, c.id))?.priority).toBe(90);
    expect(await s.orchestrator.status(c.id)).toMatchObject({
      state: 'QUEUED',
      priority: 90,
      queuePosition: 1,
    });

    await s.orchestrator.cancel(a.id, 'user:erin');
    await s.waitForStatus(b.id, 'SUCCEEDED');
    await s.waitForStatus(c.id, 'SUCCEEDED');
    const admittedAt = async (id: string) =>
      (await s.events(id, 'status_changed')).find((e) => e.toStatus === 'ADMITTED')!.id;
    expect(await admittedAt(c.id)).toBeLessThan(await admittedAt(b.id));
  });

  it('shares the capacity fairly between projects', async () => {
    let blocker = '';
    const { s } = await suite.fake((jobId) => (jobId === blocker ? SLOW : FAST), { maxConcurrentRuns: 1 });
    const { project: other } = await seedProject(s.db);
    const x = await s.seedJob();
    blocker = x.id;
    await s.orchestrator.start(x.id);
    await s.waitForStatus(x.id, 'RUNNING');
    const p1 = [await s.seedJob(), await s.seedJob(), await s.seedJob()];
    const p2 = [await s.seedJob({ projectId: other.id }), await s.seedJob({ projectId: other.id })];
    for (const j of [...p1, ...p2]) await s.orchestrator.start(j.id);
    await s.waitFor('five queued', async () => (await s.queue()).queued.length === 5);
    const expected = [p2[0]!, p1[0]!, p2[1]!, p1[1]!, p1[2]!].map((j) => j.id);
    expect((await s.queue()).queued.map((q) => q.jobId)).toEqual(expected);

    await s.orchestrator.cancel(x.id, 'user:frank');
    for (const j of [...p1, ...p2]) await s.waitForStatus(j.id, 'SUCCEEDED');
    const order: { jobId: string; eventId: number }[] = [];
    for (const j of [...p1, ...p2]) {
      const admitted = (await s.events(j.id, 'status_changed')).find((e) => e.toStatus === 'ADMITTED')!;
      order.push({ jobId: j.id, eventId: admitted.id });
    }
    expect(order.sort((l, r) => l.eventId - r.eventId).map((o) => o.jobId)).toEqual(expected);
    const view = await s.queue();
    expect(view.averageRunMs).toBeGreaterThan(0);
    await checkAndRecordHistory(suite.harness, s, admissionId(s), 'admission');
  });
});
