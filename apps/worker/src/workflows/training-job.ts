import {
  admissionWorkflowId,
  TRAINING_JOB_QUERIES,
  TRAINING_JOB_SIGNALS,
  trainingJobInputSchema,
  type JobCommand,
  type JobState,
  type SetPriorityCommand,
  type TrainingJobInput,
  type TrainingJobResult,
  type TrainingJobStatus,
} from '@llmops/spec/workflows';
import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { RunAttemptResult, RunPlan } from '../activities/types.ts';
import { admittedSignal, releaseSignal, reprioritiseSignal } from './admission.ts';

export const cancelSignal = defineSignal<[JobCommand]>(TRAINING_JOB_SIGNALS.cancel);
export const pauseSignal = defineSignal<[JobCommand]>(TRAINING_JOB_SIGNALS.pause);
export const resumeSignal = defineSignal<[JobCommand]>(TRAINING_JOB_SIGNALS.resume);
export const setPrioritySignal = defineSignal<[SetPriorityCommand]>(TRAINING_JOB_SIGNALS.setPriority);
export const statusQuery = defineQuery<TrainingJobStatus>(TRAINING_JOB_QUERIES.status);

const WORKER = 'system:worker';
const ADMISSION = 'system:admission';
const TERMINAL: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

// Database activities retry without limit: a database outage delays a job, it never fails it.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The same short database activities run as local activities since the local-db-activities patch: they
 * execute inside the workflow task that needs them, so a job goes from admitted to RUNNING in one
 * workflow task instead of four activity round trips through the Temporal server.
 */
const localActs = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const LOCAL_DB_PATCH = 'local-db-activities';

function messageOf(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * One training job from the queue to a registered model (SPEC C2): admission → prepare → attempts on
 * the executor → register → SUCCEEDED, with pause/resume/cancel/priority signals. Every state change goes
 * through `jobs.transition` with an event; the database is the system of record, `st` mirrors it.
 */
export async function trainingJob(rawInput: TrainingJobInput): Promise<TrainingJobResult> {
  const parsed = trainingJobInputSchema.safeParse(rawInput);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `invalid trainingJob input: ${parsed.error.message}`,
      'InvalidInput',
    );
  const input = parsed.data;
  const { jobId, timing } = input;
  const info = workflowInfo();
  const admissionId = admissionWorkflowId(info.taskQueue);
  // Decided once, before the first command, and kept for the whole execution (histories from before the
  // patch replay with regular activities).
  const db = patched(LOCAL_DB_PATCH) ? localActs : acts;
  // Each database write carries a key unique in this execution: an activity that runs again (its
  // completion was lost, a local activity's workflow task timed out) finds its write and does nothing.
  let ops = 0;
  const nextOp = () => `${info.runId}/${++ops}`;

  const run = proxyActivities<Pick<Activities, 'runAttempt'>>({
    startToCloseTimeout: timing.runTimeoutMs,
    heartbeatTimeout: timing.runHeartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // These retries re-attach to the same attempt (another worker, a lost heartbeat); they never start a copy.
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 20,
    },
  });

  const st: TrainingJobStatus = {
    jobId,
    state: 'QUEUED',
    attempt: null,
    step: null,
    totalSteps: null,
    lastCheckpoint: null,
    priority: 0,
    pending: null,
    queuePosition: null,
    estimatedStart: null,
    message: null,
  };
  let loaded = false;
  let projectId = '';
  let submittedAt = 0;
  let cancelReq: JobCommand | null = null;
  let pauseReq: JobCommand | null = null;
  let resumeReq: JobCommand | null = null;
  let ticket: string | null = null;
  let tickets = 0;
  // Grants are kept by ticket: a grant may arrive before the workflow has recorded its enqueue (the enqueue
  // ran, its completion was lost and it runs again), and must not be missed then.
  const granted = new Set<string>();
  let attempts = 0;
  let modelId: string | null = null;

  setHandler(statusQuery, () => ({ ...st }));
  setHandler(admittedSignal, (a) => {
    granted.add(a.ticket);
  });
  setHandler(cancelSignal, (c) => {
    if (TERMINAL.includes(st.state) || cancelReq) return;
    cancelReq = c;
    st.pending = 'cancel';
  });
  setHandler(pauseSignal, (c) => {
    if (cancelReq || pauseReq || !['ADMITTED', 'RUNNING', 'PREEMPTED'].includes(st.state)) {
      log.info('pause ignored', { jobId, state: st.state });
      return;
    }
    pauseReq = c;
    st.pending = 'pause';
  });
  setHandler(resumeSignal, (c) => {
    // A resume may arrive in the same activation that records PAUSED (the API saw PAUSED in the
    // database first), so a pause in progress counts as paused: the loop resumes as soon as it settles.
    const pausing = st.state === 'PAUSED' || pauseReq !== null;
    if (!pausing || resumeReq || cancelReq) {
      log.info('resume ignored', { jobId, state: st.state });
      return;
    }
    resumeReq = c;
  });
  setHandler(setPrioritySignal, async (c) => {
    await condition(() => loaded);
    if (TERMINAL.includes(st.state) || st.priority === c.priority) return;
    const from = st.priority;
    st.priority = c.priority;
    await db.recordJobEvent({
      op: nextOp(),
      jobId,
      type: 'priority_changed',
      actor: c.actor,
      detail: { from, to: c.priority },
    });
    if (st.state === 'QUEUED' && ticket)
      await tellAdmission(reprioritiseSignal, { jobId, priority: c.priority });
  });

  async function tellAdmission<T>(signal: SignalDefinition<[T]>, payload: T): Promise<void> {
    try {
      await getExternalWorkflowHandle(admissionId).signal(signal, payload);
    } catch (error) {
      log.warn('could not signal the admission workflow', { jobId, error: String(error) });
    }
  }

  async function release(succeeded: boolean): Promise<void> {
    if (!ticket) return;
    const held = ticket;
    ticket = null;
    granted.delete(held);
    await tellAdmission(releaseSignal, { jobId, completed: succeeded, ticket: held });
  }

  async function moveTo(to: JobState, actor: string, detail: Record<string, unknown> = {}): Promise<void> {
    await db.transitionJob({ jobId, from: [st.state], to, actor, detail, op: nextOp() });
    st.state = to;
  }

  async function finish(state: JobState, message: string | null): Promise<TrainingJobResult> {
    st.pending = null;
    st.message = message;
    await condition(allHandlersFinished);
    return { jobId, state, attempts, modelId, message };
  }

  async function cancelled(): Promise<TrainingJobResult> {
    await release(false);
    await moveTo('CANCELLED', cancelReq?.actor ?? WORKER, {
      attempt: attempts || null,
      lastCheckpoint: st.lastCheckpoint,
    });
    return finish('CANCELLED', null);
  }

  async function failed(message: string): Promise<TrainingJobResult> {
    await release(false);
    await moveTo('FAILED', WORKER, { attempt: attempts || null, message });
    return finish('FAILED', message);
  }

  /** Runs one attempt, carrying out a pause or cancel that arrives meanwhile. */
  async function supervise(plan: RunPlan, attempt: number): Promise<RunAttemptResult> {
    const scope = new CancellationScope();
    let settled = false;
    let value: RunAttemptResult | null = null;
    let error: unknown = null;
    scope
      .run(() =>
        run.runAttempt({ jobId, attempt, spec: plan.spec, progressIntervalMs: timing.progressIntervalMs }),
      )
      .then(
        (v) => void ((value = v), (settled = true)),
        (e: unknown) => void ((error = e), (settled = true)),
      );
    let stopAsked = false;
    let cancelAsked = false;
    while (!settled) {
      await condition(
        () => settled || (pauseReq !== null && !stopAsked) || (cancelReq !== null && !cancelAsked),
      );
      if (settled) break;
      if (cancelReq && !cancelAsked) {
        cancelAsked = true;
        await acts.cancelRun({ jobId });
        if (!(await condition(() => settled, timing.cancelGraceMs))) {
          scope.cancel();
          await condition(() => settled);
        }
      } else if (pauseReq && !stopAsked) {
        stopAsked = await acts.requestStop({ jobId });
        // Nothing to stop yet (the attempt is starting or re-attaching): ask again shortly.
        if (!stopAsked) await condition(() => settled, '2 seconds');
      }
    }
    if (value) return value;
    // The supervision itself failed (its retries ran out) or was cancelled: make sure no process is
    // left before anything else runs for this job.
    await acts.cancelRun({ jobId });
    return {
      outcome: cancelAsked
        ? { kind: 'cancelled' }
        : {
            kind: 'failed',
            retryable: true,
            message: `supervision of attempt ${attempt} failed: ${messageOf(error)}`,
            exitCode: null,
            signal: null,
            lastCheckpoint: null,
          },
      runtimeVersion: null,
      modelPath: plan.spec.output.dir,
      lastStep: null,
      lastCheckpoint: null,
    };
  }

  function backoffMs(failures: number): number {
    const r = input.attemptRetry;
    return Math.min(r.maxBackoffMs, r.initialBackoffMs * r.backoffCoefficient ** (failures - 1));
  }

  const resumePoint = () => (st.lastCheckpoint ? 'latest' : null);

  /** QUEUED → admission → attempts until the job ends ('ended') or pauses ('paused'). */
  async function admitAndRun(firstResumeFrom: string | null): Promise<TrainingJobResult | 'paused'> {
    let resumeFrom = firstResumeFrom;
    tickets += 1;
    ticket = `${info.runId}/${tickets}`;
    const mine = ticket;
    const enqueuedPriority = st.priority;
    await db.enqueueForAdmission({ jobId, projectId, priority: enqueuedPriority, submittedAt, ticket });
    if (st.priority !== enqueuedPriority)
      await tellAdmission(reprioritiseSignal, { jobId, priority: st.priority });
    await condition(() => granted.has(mine) || cancelReq !== null);
    if (cancelReq) return cancelled();
    await moveTo('ADMITTED', ADMISSION);

    let failures = 0;
    for (;;) {
      if (cancelReq) return cancelled();
      if (pauseReq) {
        await moveTo('PAUSED', pauseReq.actor, { attempt: attempts || null, checkpoint: st.lastCheckpoint });
        await release(false);
        return 'paused';
      }
      let plan: RunPlan;
      try {
        plan = await db.prepareRun({ jobId, attempt: attempts + 1, resumeFrom });
      } catch (error) {
        return failed(messageOf(error));
      }
      if (cancelReq || pauseReq) continue;
      attempts += 1;
      st.attempt = attempts;
      st.step = null;
      st.totalSteps = null;
      await db.recordJobEvent({
        op: nextOp(),
        jobId,
        type: 'attempt_started',
        actor: WORKER,
        detail: { attempt: attempts, resumeFrom },
      });
      if (st.state !== 'RUNNING') await moveTo('RUNNING', WORKER, { attempt: attempts, resumeFrom });

      const result = await supervise(plan, attempts);
      const o = result.outcome;
      const stepBefore = st.lastCheckpoint?.step ?? -1;
      st.step = result.lastStep ?? st.step;
      st.lastCheckpoint = result.lastCheckpoint ?? st.lastCheckpoint;
      if (o.kind === 'succeeded') {
        const model = await acts.registerModel({
          jobId,
          attempt: attempts,
          plan: plan.model,
          modelPath: result.modelPath,
          metrics: o.metrics,
          runtimeVersion: result.runtimeVersion,
        });
        modelId = model.id;
        await release(true);
        await moveTo('SUCCEEDED', WORKER, { attempt: attempts, metrics: o.metrics, model });
        return finish('SUCCEEDED', null);
      }
      if (o.kind === 'cancelled' || cancelReq) return cancelled();
      if (o.kind === 'checkpointed') {
        if (o.checkpoint) st.lastCheckpoint = o.checkpoint;
        resumeFrom = resumePoint();
        if (pauseReq) continue;
        // Stopped without a pause request: preempted from outside; the next attempt resumes at once.
        // Stops that make no progress count as failed attempts, so a runtime that keeps stopping ends.
        failures = (st.lastCheckpoint?.step ?? -1) > stepBefore ? 0 : failures + 1;
        if (failures >= input.attemptRetry.maxAttempts)
          return failed(`stopped ${failures} times in a row without a new checkpoint`);
        await moveTo('PREEMPTED', WORKER, { attempt: attempts, checkpoint: st.lastCheckpoint });
        continue;
      }
      if (o.lastCheckpoint && (st.lastCheckpoint === null || o.lastCheckpoint.step >= st.lastCheckpoint.step))
        st.lastCheckpoint = o.lastCheckpoint;
      failures += 1;
      const retrying = o.retryable && failures < input.attemptRetry.maxAttempts;
      const wait = retrying ? backoffMs(failures) : null;
      await db.recordJobEvent({
        op: nextOp(),
        jobId,
        type: 'attempt_failed',
        actor: WORKER,
        detail: {
          attempt: attempts,
          message: o.message,
          retryable: o.retryable,
          exitCode: o.exitCode,
          signal: o.signal,
          retryInMs: wait,
        },
      });
      if (wait === null)
        return failed(o.retryable ? `failed after ${failures} attempts: ${o.message}` : o.message);
      resumeFrom = resumePoint();
      await condition(() => cancelReq !== null || pauseReq !== null, wait);
    }
  }

  const job = await db.loadJob({ jobId });
  projectId = job.projectId;
  submittedAt = job.submittedAt;
  st.state = job.status;
  st.priority = job.priority;
  st.lastCheckpoint = job.lastCheckpoint;
  attempts = job.attempts;
  st.attempt = attempts || null;
  loaded = true;

  let resumeFrom: string | null = null;
  let paused = false;
  if (input.retry) {
    if (job.status !== 'FAILED' && job.status !== 'CANCELLED')
      return finish(job.status, `job is ${job.status}; only FAILED or CANCELLED jobs are retried`);
    resumeFrom = input.retry.fromCheckpoint ?? resumePoint();
    await moveTo('QUEUED', input.retry.actor, { reason: 'retry', resumeFrom });
  } else if (TERMINAL.includes(job.status)) {
    return finish(job.status, null);
  } else if (job.status === 'PAUSED') {
    paused = true; // its previous workflow was lost while paused: keep waiting for resume
  } else if (job.status !== 'QUEUED') {
    // Its previous workflow was lost mid-run (Temporal state reset): no process may survive it.
    await acts.cancelRun({ jobId });
    resumeFrom = resumePoint();
    await moveTo('QUEUED', WORKER, { reason: 'recovered without its workflow', resumeFrom });
  }

  for (;;) {
    if (!paused) {
      const outcome = await admitAndRun(resumeFrom);
      if (outcome !== 'paused') return outcome;
    }
    paused = false;
    pauseReq = null;
    st.pending = null;
    await condition(() => resumeReq !== null || cancelReq !== null);
    if (cancelReq) return cancelled();
    const resume: JobCommand = resumeReq!;
    resumeReq = null;
    resumeFrom = resumePoint();
    await moveTo('QUEUED', resume.actor, { reason: 'resume', resumeFrom });
  }
}
