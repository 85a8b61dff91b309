import type {
  AdmissionConfig,
  AdmissionQueueView,
  AdmissionState,
  QueuedJob,
  RunningJob,
} from '@llmops/spec/workflows';

/**
 * Admission order (SPEC C2, C11), pure so that the workflow, its query and the unit tests share it:
 *   1. higher priority first (a queue per priority);
 *   2. within a priority, the project with fewer admitted runs first (fair share of the capacity);
 *   3. then the project admitted least recently (round robin between projects);
 *   4. then the job submitted first, then arrival order.
 * A project at its quota (maxRunsPerProject) waits, without blocking other projects' jobs.
 */

/** Completed run durations kept for the start estimates. */
export const RECENT_RUNS_KEPT = 20;

export function emptyAdmissionState(config: AdmissionConfig): AdmissionState {
  return { config, queue: [], running: [], lastAdmission: {}, recentRunMs: [], seq: 0 };
}

function countByProject(running: readonly RunningJob[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of running) counts.set(r.projectId, (counts.get(r.projectId) ?? 0) + 1);
  return counts;
}

/** The queued job to admit next, or null when none may start now. */
export function pickNext(
  queue: readonly QueuedJob[],
  running: readonly RunningJob[],
  config: AdmissionConfig,
  lastAdmission: Readonly<Record<string, number>>,
): QueuedJob | null {
  if (running.length >= config.maxConcurrentRuns) return null;
  const counts = countByProject(running);
  const load = (j: QueuedJob) => counts.get(j.projectId) ?? 0;
  let best: QueuedJob | null = null;
  for (const job of queue) {
    if (config.maxRunsPerProject !== null && load(job) >= config.maxRunsPerProject) continue;
    if (best === null || comesBefore(job, best, load, lastAdmission)) best = job;
  }
  return best;
}

function comesBefore(
  a: QueuedJob,
  b: QueuedJob,
  load: (j: QueuedJob) => number,
  lastAdmission: Readonly<Record<string, number>>,
): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (load(a) !== load(b)) return load(a) < load(b);
  const lastA = lastAdmission[a.projectId] ?? -1;
  const lastB = lastAdmission[b.projectId] ?? -1;
  if (lastA !== lastB) return lastA < lastB;
  if (a.submittedAt !== b.submittedAt) return a.submittedAt < b.submittedAt;
  return a.seq < b.seq;
}

/** Moves every job that may start now from the queue to the running set; returns them in order. */
export function admitReady(state: AdmissionState, now: number): RunningJob[] {
  const admitted: RunningJob[] = [];
  for (;;) {
    const next = pickNext(state.queue, state.running, state.config, state.lastAdmission);
    if (!next) return admitted;
    state.queue = state.queue.filter((j) => j.jobId !== next.jobId);
    state.seq += 1;
    state.lastAdmission[next.projectId] = state.seq;
    const run: RunningJob = {
      jobId: next.jobId,
      projectId: next.projectId,
      admittedAt: now,
      ticket: next.ticket,
    };
    state.running.push(run);
    admitted.push(run);
  }
}

export function averageRunMs(state: AdmissionState): number | null {
  if (state.recentRunMs.length === 0) return null;
  return state.recentRunMs.reduce((a, b) => a + b, 0) / state.recentRunMs.length;
}

/**
 * Queue positions and estimated starts: replays the admission rules forward in time, assuming every
 * run takes the average of the recently completed ones and no new job arrives. Without any completed
 * run the order is still exact but only jobs that can start right now get a start time.
 */
export function forecast(
  state: AdmissionState,
  now: number,
): { job: QueuedJob; position: number; estimatedStart: number | null }[] {
  const avg = averageRunMs(state);
  const endOf = (r: RunningJob) => (avg === null ? null : Math.max(now, r.admittedAt + avg));
  const running = state.running.map((r) => ({ ...r, end: endOf(r) }));
  const lastAdmission = { ...state.lastAdmission };
  let queue = [...state.queue];
  let seq = state.seq;
  let clock: number | null = now;
  const out: { job: QueuedJob; position: number; estimatedStart: number | null }[] = [];
  while (queue.length > 0) {
    const next = pickNext(queue, running, state.config, lastAdmission);
    if (next) {
      queue = queue.filter((j) => j.jobId !== next.jobId);
      seq += 1;
      lastAdmission[next.projectId] = seq;
      out.push({ job: next, position: out.length + 1, estimatedStart: clock });
      running.push({
        jobId: next.jobId,
        projectId: next.projectId,
        admittedAt: clock ?? now,
        ticket: next.ticket,
        end: clock === null || avg === null ? null : clock + avg,
      });
      continue;
    }
    if (running.length === 0) break; // cannot happen: only a running job can hold a project at its quota
    // Let the run expected to end first finish (the oldest one when nothing is known).
    let first = 0;
    for (let i = 1; i < running.length; i++) {
      const a = running[i]!;
      const b = running[first]!;
      if (a.end !== null && b.end !== null ? a.end < b.end : a.admittedAt < b.admittedAt) first = i;
    }
    const [done] = running.splice(first, 1);
    clock = clock === null || done!.end === null ? null : Math.max(clock, done!.end);
  }
  return out;
}

export function queueView(state: AdmissionState, now: number): AdmissionQueueView {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    config: state.config,
    running: state.running.map((r) => ({
      jobId: r.jobId,
      projectId: r.projectId,
      admittedAt: iso(r.admittedAt),
    })),
    queued: forecast(state, now).map(({ job, position, estimatedStart }) => ({
      jobId: job.jobId,
      projectId: job.projectId,
      priority: job.priority,
      position,
      enqueuedAt: iso(job.enqueuedAt),
      estimatedStart: estimatedStart === null ? null : iso(estimatedStart),
    })),
    averageRunMs: averageRunMs(state),
  };
}
