import type { AppendJobEventInput, Db, JobEventRow } from '@llmops/db';
import type { RuntimeEvent } from '@llmops/spec';
import { describe, expect, it } from 'vitest';
import { AttemptRecorder } from './attempt-recorder.ts';
import { createJobEventBatcher } from './event-batcher.ts';

/** Just the two job-event calls the recorder makes (a batch is written whole or not at all), over an array; `failing` simulates a database outage. */
function eventStore() {
  const rows: JobEventRow[] = [];
  const store = {
    rows,
    failing: false,
    db: {
      repos: {
        jobs: {
          listEvents: async () => rows,
          appendEvents: async (batch: AppendJobEventInput[]) => {
            if (store.failing) throw new Error('database down');
            const written = batch.map(
              (e, i) =>
                ({
                  id: rows.length + i + 1,
                  fromStatus: null,
                  toStatus: null,
                  createdAt: '',
                  detail: {},
                  ...e,
                }) as JobEventRow,
            );
            rows.push(...written);
            return written;
          },
        },
      },
    } as unknown as Db,
  };
  return store;
}

function run(steps: number, checkpointEvery: number): RuntimeEvent[] {
  const events: RuntimeEvent[] = [
    { type: 'started', ts: 0, mode: 'sft', resumed_from_step: null, runtime_version: 'r1' },
  ];
  for (let step = 1; step <= steps; step++) {
    events.push({ type: 'progress', ts: step, step, total_steps: steps, epoch: 0 });
    events.push({ type: 'metric', ts: step, step, values: { loss: 1 / step } });
    if (step % checkpointEvery === 0)
      events.push({ type: 'checkpoint', ts: step, step, path: `/ckpt/step-${step}` });
  }
  events.push({ type: 'artifact', ts: steps, kind: 'model', path: '/out', format: 'hf' });
  return events;
}

const steps = (rows: JobEventRow[]) =>
  rows
    .filter((r) => r.type === 'metrics')
    .flatMap((r) => (r.detail.points as { step: number }[]).map((p) => p.step));

describe('AttemptRecorder', () => {
  it('records checkpoints at once and batches metrics and progress', async () => {
    const store = eventStore();
    const recorder = await AttemptRecorder.open(store.db, 'job', 1, 60_000);
    for (const e of run(7, 3)) await recorder.observe(e);
    await recorder.close();
    expect(store.rows.map((r) => r.type)).toEqual([
      'progress',
      'metrics',
      'checkpoint',
      'progress',
      'metrics',
      'checkpoint',
      'progress',
      'metrics',
      'artifact',
    ]);
    expect(steps(store.rows)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(recorder).toMatchObject({
      step: 7,
      runtimeVersion: 'r1',
      modelPath: '/out',
      lastCheckpoint: { step: 6, path: '/ckpt/step-6' },
    });
  });

  it('skips what an earlier supervision of the same attempt recorded when the events are replayed', async () => {
    const store = eventStore();
    const events = run(10, 4);
    const first = await AttemptRecorder.open(store.db, 'job', 1, 60_000);
    for (const e of events.slice(0, 14)) await first.observe(e); // lost after step 6, checkpoint 4 recorded
    const second = await AttemptRecorder.open(store.db, 'job', 1, 60_000);
    for (const e of events) await second.observe(e);
    await second.close();
    expect(steps(store.rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(store.rows.filter((r) => r.type === 'checkpoint').map((r) => r.detail.step)).toEqual([4, 8]);
    // Another attempt records its own events.
    const other = await AttemptRecorder.open(store.db, 'job', 2, 60_000);
    for (const e of events.slice(0, 3)) await other.observe(e);
    await other.close();
    expect(store.rows.at(-1)!.detail).toMatchObject({ attempt: 2, seq: 3 });
  });

  it('keeps events in order while the database is down and fails close() until they are written', async () => {
    const store = eventStore();
    const recorder = await AttemptRecorder.open(store.db, 'job', 1, 0);
    store.failing = true;
    for (const e of run(4, 2)) await recorder.observe(e);
    await expect(recorder.close()).rejects.toThrow(/could not record/);
    store.failing = false;
    await recorder.close();
    expect(steps(store.rows)).toEqual([1, 2, 3, 4]);
    expect(store.rows.filter((r) => r.type === 'checkpoint').map((r) => r.detail.step)).toEqual([2, 4]);
  });

  it('abandoned, waits for its write under way and records nothing more, so a re-attach sees every write', async () => {
    const store = eventStore();
    const first = await AttemptRecorder.open(store.db, 'job', 1, 0, createJobEventBatcher(store.db, 50));
    const events = run(10, 100);
    for (const e of events.slice(0, 5)) await first.observe(e); // up to step 2, the last write batched
    const underWay = first.observe(events[5]!); // step 3's progress: a write that waits for its batch
    await first.abandon();
    expect(steps(store.rows)).toEqual([1, 2]);
    expect(store.rows.at(-1)!.detail).toMatchObject({ step: 3 });
    await underWay;
    for (const e of events.slice(6)) await first.observe(e);
    const stored = store.rows.length;
    const second = await AttemptRecorder.open(store.db, 'job', 1, 0);
    for (const e of events) await second.observe(e);
    await second.close();
    expect(store.rows.length).toBeGreaterThan(stored);
    expect(steps(store.rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
