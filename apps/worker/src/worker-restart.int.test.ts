import { describe, expect, it } from 'vitest';
import { FakeExecutor, FakeProcessTable } from './testing/fake-executor.ts';
import { temporalSuite } from './testing/harness.ts';

// A worker that goes away mid-run and another that takes over: the attempt's process (simulated, in a
// process table that outlives the workers) is re-attached, never started twice, and no event is lost
// or recorded twice.

const suite = temporalSuite();

describe('worker restarts', () => {
  it('lets a new worker re-attach to the running attempt after the old one shut down mid-run', async () => {
    const s = await suite.scenario();
    const table = new FakeProcessTable();
    const script = () => ({ steps: 40, stepMs: 50, checkpointEvery: 5 });
    const first = await s.startWorker(new FakeExecutor(table, script));
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitFor('step 5', async () =>
      (await s.events(job.id, 'progress')).some((e) => Number(e.detail.step) >= 5),
    );
    await first.shutdown();
    expect(await s.statusOf(job.id)).toBe('RUNNING');

    await s.startWorker(new FakeExecutor(table, script));
    await s.waitForStatus(job.id, 'SUCCEEDED', 60_000);
    expect(table.startsOf(job.id)).toHaveLength(1);
    expect(table.reattached).toContainEqual({ jobId: job.id, attempt: 1 });
    const points = (await s.events(job.id, 'metrics')).flatMap((e) => e.detail.points as { step: number }[]);
    expect(points.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const checkpoints = (await s.events(job.id, 'checkpoint')).map((e) => e.detail.step);
    expect(checkpoints).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→RUNNING', 'RUNNING→SUCCEEDED']);
  });
});
