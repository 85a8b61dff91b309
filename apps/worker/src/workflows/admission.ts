import {
  ADMISSION_QUERIES,
  ADMISSION_SIGNALS,
  TRAINING_JOB_SIGNALS,
  type AdmissionConfig,
  type AdmissionEnqueue,
  type AdmissionInput,
  type AdmissionQueueView,
  type AdmissionRelease,
  type AdmissionReprioritise,
  type AdmissionState,
  type AdmittedSignal,
  type RunningJob,
} from '@llmops/spec/workflows';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { admitReady, emptyAdmissionState, queueView, RECENT_RUNS_KEPT } from './admission-policy.ts';

export const enqueueSignal = defineSignal<[AdmissionEnqueue]>(ADMISSION_SIGNALS.enqueue);
export const releaseSignal = defineSignal<[AdmissionRelease]>(ADMISSION_SIGNALS.release);
export const reprioritiseSignal = defineSignal<[AdmissionReprioritise]>(ADMISSION_SIGNALS.reprioritise);
export const configureSignal = defineSignal<[AdmissionConfig]>(ADMISSION_SIGNALS.configure);
export const queueQuery = defineQuery<AdmissionQueueView>(ADMISSION_QUERIES.queue);
export const admittedSignal = defineSignal<[AdmittedSignal]>(TRAINING_JOB_SIGNALS.admitted);

/** While runs are admitted, how often the holders are checked for workflows that ended without releasing. */
const RECONCILE_EVERY_MS = 5 * 60_000;
const BATCH_GRANTS_PATCH = 'admission-batch-grants';
/** Continue-as-new well before Temporal's history limits; the state is small. */
const MAX_HISTORY_EVENTS = 5_000;

const { findClosedJobWorkflows } = proxyActivities<Pick<Activities, 'findClosedJobWorkflows'>>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
});

/**
 * The admission queue of one task queue: a semaphore with priorities, per-project quotas and fair share.
 * Job workflows enqueue (signal-with-start from an activity) and release; this workflow signals
 * `admitted` back. It never ends: it continues as new to bound its history.
 */
export async function admission(input: AdmissionInput): Promise<void> {
  const state: AdmissionState = input.state ?? emptyAdmissionState(input.config);
  let dirty = true;

  setHandler(enqueueSignal, (e) => {
    const current =
      state.queue.find((j) => j.jobId === e.jobId) ?? state.running.find((r) => r.jobId === e.jobId);
    if (current?.ticket === e.ticket) return; // a retried enqueue
    // A new ticket replaces whatever the job held before: it released or its previous run is gone.
    state.queue = state.queue.filter((j) => j.jobId !== e.jobId);
    state.running = state.running.filter((r) => r.jobId !== e.jobId);
    state.seq += 1;
    state.queue.push({
      jobId: e.jobId,
      projectId: e.projectId,
      priority: e.priority,
      submittedAt: e.submittedAt,
      enqueuedAt: Date.now(),
      seq: state.seq,
      ticket: e.ticket,
    });
    dirty = true;
  });

  setHandler(releaseSignal, (r) => {
    state.queue = state.queue.filter((j) => !(j.jobId === r.jobId && j.ticket === r.ticket));
    const held = state.running.find((h) => h.jobId === r.jobId && h.ticket === r.ticket);
    if (held) {
      state.running = state.running.filter((h) => h !== held);
      if (r.completed)
        state.recentRunMs = [...state.recentRunMs, Date.now() - held.admittedAt].slice(-RECENT_RUNS_KEPT);
    }
    dirty = true;
  });

  setHandler(reprioritiseSignal, (p) => {
    const queued = state.queue.find((j) => j.jobId === p.jobId);
    if (queued) queued.priority = p.priority;
    dirty = true;
  });

  setHandler(configureSignal, (config) => {
    state.config = config;
    dirty = true;
  });

  setHandler(queueQuery, () => queueView(state, Date.now()));

  for (;;) {
    const woke =
      state.running.length > 0
        ? await condition(() => dirty, RECONCILE_EVERY_MS)
        : await condition(() => dirty);
    if (!woke) await dropClosedHolders(state);
    dirty = false;
    await grant(state, admitReady(state, Date.now()), () => {
      dirty = true;
    });
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof admission>({ config: state.config, state });
    }
  }
}

/**
 * Signals `admitted` to the granted job workflows. Since the batch-grants patch all grants of one pass go
 * out together, in one workflow task, instead of one round trip per run; histories from before the patch
 * replay the sequential path.
 */
async function grant(state: AdmissionState, granted: RunningJob[], onGone: () => void): Promise<void> {
  const signal = (run: RunningJob) =>
    getExternalWorkflowHandle(run.jobId).signal(admittedSignal, { ticket: run.ticket });
  const gone = (run: RunningJob, error: unknown) => {
    // The job workflow ended while it waited (terminated from outside): give the capacity back.
    log.warn('admitted job workflow is gone; releasing its capacity', {
      jobId: run.jobId,
      error: String(error),
    });
    state.running = state.running.filter((r) => r !== run);
    onGone();
  };
  if (patched(BATCH_GRANTS_PATCH)) {
    const outcomes = await Promise.allSettled(granted.map(signal));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') gone(granted[i]!, outcome.reason);
    });
    return;
  }
  for (const run of granted) {
    try {
      await signal(run);
    } catch (error) {
      gone(run, error);
    }
  }
}

async function dropClosedHolders(state: AdmissionState): Promise<void> {
  const holders = state.running.map((r) => r.jobId);
  let closed: string[];
  try {
    closed = await findClosedJobWorkflows({ jobIds: holders });
  } catch (error) {
    log.warn('could not check the admitted job workflows', { error: String(error) });
    return;
  }
  if (closed.length === 0) return;
  log.warn('releasing capacity held by ended job workflows', { jobIds: closed });
  state.running = state.running.filter((r) => !closed.includes(r.jobId));
}
