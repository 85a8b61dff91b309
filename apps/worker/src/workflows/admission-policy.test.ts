import type { AdmissionConfig, AdmissionState, QueuedJob } from '@llmops/spec';
import { describe, expect, it } from 'vitest';
import { admitReady, emptyAdmissionState, forecast, pickNext, queueView } from './admission-policy.ts';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function stateWith(config: AdmissionConfig, jobs: [project: string, priority: number][]): AdmissionState {
  const state = emptyAdmissionState(config);
  jobs.forEach(([projectId, priority], i) => {
    state.seq += 1;
    state.queue.push({
      jobId: uuid(i + 1),
      projectId,
      priority,
      submittedAt: 1_000 + i,
      enqueuedAt: 1_000 + i,
      seq: state.seq,
      ticket: `t${i + 1}`,
    });
  });
  return state;
}

/** Admits one job at a time, finishing the oldest run before the next admission. */
function admissionOrder(state: AdmissionState): string[] {
  const order: string[] = [];
  for (;;) {
    const admitted = admitReady(state, 0);
    order.push(...admitted.map((r) => r.jobId));
    if (state.queue.length === 0) return order;
    state.running.shift();
  }
}

const one = { maxConcurrentRuns: 1, maxRunsPerProject: null };

describe('admission policy', () => {
  it('admits higher priority first, then the earlier submission', () => {
    const state = stateWith(one, [
      ['p', 50],
      ['p', 90],
      ['p', 50],
      ['p', 10],
    ]);
    expect(admissionOrder(state)).toEqual([uuid(2), uuid(1), uuid(3), uuid(4)]);
  });

  it('shares a priority level round robin between projects (fair share)', () => {
    const state = stateWith(one, [
      ['a', 50],
      ['a', 50],
      ['a', 50],
      ['b', 50],
      ['b', 50],
    ]);
    expect(admissionOrder(state)).toEqual([uuid(1), uuid(4), uuid(2), uuid(5), uuid(3)]);
  });

  it('gives free capacity to the project with fewer runs', () => {
    const state = stateWith({ maxConcurrentRuns: 4, maxRunsPerProject: null }, [
      ['a', 50],
      ['a', 50],
      ['a', 50],
      ['a', 50],
      ['b', 50],
      ['b', 50],
    ]);
    const admitted = admitReady(state, 0).map((r) => r.projectId);
    expect(admitted.sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('keeps a project at its quota waiting without blocking other projects', () => {
    const state = stateWith({ maxConcurrentRuns: 3, maxRunsPerProject: 1 }, [
      ['a', 90],
      ['a', 90],
      ['b', 10],
    ]);
    expect(admitReady(state, 0).map((r) => r.jobId)).toEqual([uuid(1), uuid(3)]);
    expect(state.queue.map((q) => q.jobId)).toEqual([uuid(2)]);
    expect(pickNext(state.queue, state.running, state.config, state.lastAdmission)).toBeNull();
    state.running = state.running.filter((r) => r.projectId !== 'a');
    expect(admitReady(state, 0).map((r) => r.jobId)).toEqual([uuid(2)]);
  });

  it('never admits beyond the global capacity', () => {
    const state = stateWith({ maxConcurrentRuns: 2, maxRunsPerProject: null }, [
      ['a', 50],
      ['b', 50],
      ['c', 50],
    ]);
    expect(admitReady(state, 0)).toHaveLength(2);
    expect(admitReady(state, 0)).toHaveLength(0);
    expect(state.running).toHaveLength(2);
  });
});

describe('forecast', () => {
  it('gives positions in admission order and start estimates from recent run durations', () => {
    const state = stateWith({ maxConcurrentRuns: 2, maxRunsPerProject: null }, [
      ['a', 50],
      ['a', 50],
      ['b', 50],
      ['a', 50],
    ]);
    const now = 100_000;
    admitReady(state, now - 30_000); // a1 and b1 started 30 s ago; a2 and a4 wait
    state.recentRunMs = [60_000, 60_000];
    const f = forecast(state, now);
    expect(f.map((e) => [e.job.jobId, e.position, e.estimatedStart])).toEqual([
      [uuid(2), 1, now + 30_000],
      [uuid(4), 2, now + 30_000],
    ]);
  });

  it('spaces the estimates of a single slot by the average run', () => {
    const state = stateWith(one, [
      ['a', 50],
      ['a', 50],
      ['a', 50],
    ]);
    admitReady(state, 0);
    state.recentRunMs = [50_000, 70_000];
    expect(forecast(state, 0).map((e) => e.estimatedStart)).toEqual([60_000, 120_000]);
  });

  it('says "now" for a job that can start at once and "unknown" later when no run has completed yet', () => {
    const state = stateWith({ maxConcurrentRuns: 1, maxRunsPerProject: null }, [['a', 50]]);
    expect(forecast(state, 5)).toEqual([{ job: state.queue[0], position: 1, estimatedStart: 5 }]);
    admitReady(state, 0);
    state.queue.push({
      ...(state.running[0] as unknown as QueuedJob),
      jobId: uuid(9),
      priority: 50,
      seq: 99,
      submittedAt: 9,
      enqueuedAt: 9,
      ticket: 'x',
    });
    expect(forecast(state, 5)[0]).toMatchObject({ position: 1, estimatedStart: null });
  });

  it('renders the queue view with ISO times', () => {
    const state = stateWith(one, [['a', 50]]);
    state.recentRunMs = [1_000];
    const view = queueView(state, Date.UTC(2030, 0, 1));
    expect(view.queued[0]).toMatchObject({ position: 1, estimatedStart: '2030-01-01T00:00:00.000Z' });
    expect(view.averageRunMs).toBe(1_000);
  });
});
