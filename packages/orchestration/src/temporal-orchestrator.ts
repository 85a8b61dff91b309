import { JobControlError, type JobOrchestrator } from '@llmops/core';
import type { Db, JobRow, JobStatus } from '@llmops/db';
import {
  ADMISSION_QUERIES,
  admissionWorkflowId,
  attemptRetryPolicySchema,
  TRAINING_JOB_QUERIES,
  TRAINING_JOB_SIGNALS,
  TRAINING_TASK_QUEUE,
  trainingJobTimingSchema,
  WORKFLOW_TYPES,
  type AdmissionQueueView,
  type AttemptRetryPolicy,
  type JobCommand,
  type SetPriorityCommand,
  type TrainingJobInput,
  type TrainingJobStatus,
  type TrainingJobTiming,
} from '@llmops/spec';
import {
  defaultPayloadConverter,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';

export interface TemporalJobOrchestratorOptions {
  client: Client;
  db: Db;
  /** Default TRAINING_TASK_QUEUE; must match the worker's. */
  taskQueue?: string;
  /** Automatic retries of failed attempts, for every job started from here. */
  attemptRetry?: Partial<AttemptRetryPolicy>;
  timing?: Partial<TrainingJobTiming>;
  /** Deadline of one control call against Temporal (default 5 s): an unreachable server is reported, not waited out. */
  callTimeoutMs?: number;
}

export interface TemporalJobOrchestrator extends JobOrchestrator {
  /**
   * What the job's workflow reports, with the step and checkpoint of a running attempt (from its
   * heartbeat) and the queue position; null when the job has no workflow.
   */
  status(jobId: string): Promise<TrainingJobStatus | null>;
}

/** How long a retry waits for the workflow of a job that just ended to close. */
const FINISHING_GRACE_MS = 10_000;
const TERMINAL: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const CANCELLABLE: readonly JobStatus[] = ['QUEUED', 'ADMITTED', 'RUNNING', 'PAUSED', 'PREEMPTED'];
const PAUSABLE: readonly JobStatus[] = ['ADMITTED', 'RUNNING', 'PREEMPTED'];

function list(states: readonly JobStatus[]): string {
  return states.length === 1 ? states[0]! : `${states.slice(0, -1).join(', ')} or ${states.at(-1)}`;
}

function isUnreachable(error: unknown): boolean {
  return error instanceof ServiceError || isGrpcServiceError(error);
}

/**
 * A job's workflow task runs its short database steps as local activities; on a saturated machine they can
 * take longer than Temporal's default 10 s, and a timed-out task is done again from the start. 30 s leaves
 * room; a worker that dies holding a task delays that job by at most this long.
 */
const WORKFLOW_TASK_TIMEOUT = '30 seconds';

export function createTemporalJobOrchestrator(opts: TemporalJobOrchestratorOptions): TemporalJobOrchestrator {
  const { client, db } = opts;
  const taskQueue = opts.taskQueue ?? TRAINING_TASK_QUEUE;
  const attemptRetry = attemptRetryPolicySchema.parse(opts.attemptRetry ?? {});
  const timing = trainingJobTimingSchema.parse(opts.timing ?? {});
  const callTimeoutMs = opts.callTimeoutMs ?? 5_000;

  const inputFor = (jobId: string, retry: TrainingJobInput['retry'] = null): TrainingJobInput => ({
    jobId,
    retry,
    attemptRetry,
    timing,
  });

  async function jobOf(jobId: string): Promise<JobRow> {
    const [job] = await db.repos.jobs.listAll({ jobId });
    if (!job) throw new JobControlError('NOT_FOUND', `Job '${jobId}' not found`);
    return job;
  }

  function requireState(job: JobRow, allowed: readonly JobStatus[], action: string): void {
    if (!allowed.includes(job.status))
      throw new JobControlError(
        'CONFLICT',
        `Job ${job.id} is ${job.status}; only ${list(allowed)} jobs can be ${action}`,
      );
  }

  /** Maps Temporal errors; `action` names what was refused when the job moved on meanwhile. */
  async function guard<T>(
    jobId: string,
    allowed: readonly JobStatus[],
    action: string,
    call: () => Promise<T>,
    extraMs = 0,
  ): Promise<T> {
    try {
      return await client.withDeadline(Date.now() + callTimeoutMs + extraMs, call);
    } catch (error) {
      if (error instanceof JobControlError) throw error;
      if (error instanceof WorkflowNotFoundError || error instanceof WorkflowExecutionAlreadyStartedError) {
        // The workflow ended between our read and the signal: report the state it left the job in.
        const job = await jobOf(jobId);
        requireState(job, allowed, action);
        throw new JobControlError(
          'CONFLICT',
          `Job ${jobId} is ${job.status} but its workflow has ended; retry the job to run it again`,
          { cause: error },
        );
      }
      if (isUnreachable(error))
        throw new JobControlError(
          'UNAVAILABLE',
          `The workflow service (Temporal) cannot be reached; try again shortly (${(error as Error).message})`,
          { cause: error },
        );
      throw error;
    }
  }

  /** Signals the job workflow, starting it if it does not exist (a job whose start was lost). */
  async function signalWithStart(jobId: string, signal: string, payload: unknown): Promise<void> {
    await client.workflow.signalWithStart(WORKFLOW_TYPES.trainingJob, {
      workflowId: jobId,
      taskQueue,
      args: [inputFor(jobId)],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
      signal,
      signalArgs: [payload],
    });
  }

  /** Waits up to `ms` for the job's open workflow to close; true when it did. */
  async function workflowEnds(jobId: string, ms: number): Promise<boolean> {
    const ended = client.workflow
      .getHandle(jobId)
      .result()
      .then(
        () => true,
        (error: unknown) => error instanceof WorkflowFailedError,
      );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function admissionView(): Promise<AdmissionQueueView | null> {
    try {
      return await client.workflow
        .getHandle(admissionWorkflowId(taskQueue))
        .query<AdmissionQueueView>(ADMISSION_QUERIES.queue);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
  }

  return {
    async start(jobId) {
      await jobOf(jobId);
      await guard(jobId, CANCELLABLE, 'started', async () => {
        try {
          await client.workflow.start(WORKFLOW_TYPES.trainingJob, {
            workflowId: jobId,
            taskQueue,
            args: [inputFor(jobId)],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
            workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
          });
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) return; // a duplicate start
          throw error;
        }
      });
    },

    async cancel(jobId, actor) {
      const job = await jobOf(jobId);
      requireState(job, CANCELLABLE, 'cancelled');
      await guard(jobId, CANCELLABLE, 'cancelled', () =>
        signalWithStart(jobId, TRAINING_JOB_SIGNALS.cancel, { actor } satisfies JobCommand),
      );
    },

    async pause(jobId, actor) {
      const job = await jobOf(jobId);
      if (!PAUSABLE.includes(job.status))
        throw new JobControlError(
          'CONFLICT',
          `Job ${jobId} is ${job.status}; only RUNNING or ADMITTED jobs can be paused`,
        );
      await guard(jobId, PAUSABLE, 'paused', () =>
        client.workflow.getHandle(jobId).signal(TRAINING_JOB_SIGNALS.pause, { actor } satisfies JobCommand),
      );
    },

    async resume(jobId, actor) {
      const job = await jobOf(jobId);
      requireState(job, ['PAUSED'], 'resumed');
      await guard(jobId, ['PAUSED'], 'resumed', () =>
        signalWithStart(jobId, TRAINING_JOB_SIGNALS.resume, { actor } satisfies JobCommand),
      );
    },

    async retry(jobId, actor, fromCheckpoint) {
      const job = await jobOf(jobId);
      requireState(job, ['FAILED', 'CANCELLED'], 'retried');
      if (fromCheckpoint !== undefined && fromCheckpoint !== 'latest') {
        const events = await db.repos.jobs.listEvents(jobId);
        const known = events.some((e) => e.type === 'checkpoint' && e.detail.path === fromCheckpoint);
        if (!known)
          throw new JobControlError(
            'NOT_FOUND',
            `Checkpoint '${fromCheckpoint}' was not recorded for job ${jobId}; list its checkpoint events or omit it to use the latest`,
          );
      }
      const startRetry = () =>
        client.workflow.start(WORKFLOW_TYPES.trainingJob, {
          workflowId: jobId,
          taskQueue,
          args: [inputFor(jobId, { actor, fromCheckpoint: fromCheckpoint ?? null })],
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          workflowIdConflictPolicy: 'FAIL',
          workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        });
      await guard(
        jobId,
        ['FAILED', 'CANCELLED'],
        'retried',
        async () => {
          try {
            await startRetry();
          } catch (error) {
            if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
            // The job has reached its end state; its workflow returns a moment later.
            if (!(await workflowEnds(jobId, FINISHING_GRACE_MS)))
              throw new JobControlError(
                'CONFLICT',
                `Job ${jobId} is ${job.status} but its workflow is still finishing; retry in a few seconds`,
                { cause: error },
              );
            await startRetry();
          }
        },
        FINISHING_GRACE_MS,
      );
    },

    async setPriority(jobId, priority, actor) {
      if (!Number.isInteger(priority) || priority < 0 || priority > 100)
        throw new JobControlError(
          'BAD_REQUEST',
          `Priority must be an integer from 0 to 100, got ${priority}`,
        );
      const job = await jobOf(jobId);
      if (TERMINAL.includes(job.status))
        throw new JobControlError(
          'CONFLICT',
          `Job ${jobId} is ${job.status}; only ${list(CANCELLABLE)} jobs can change priority`,
        );
      await guard(jobId, CANCELLABLE, 'reprioritised', () =>
        signalWithStart(jobId, TRAINING_JOB_SIGNALS.setPriority, {
          actor,
          priority,
        } satisfies SetPriorityCommand),
      );
    },

    async queuePosition(jobId) {
      await jobOf(jobId);
      const view = await guard(jobId, CANCELLABLE, 'queried', admissionView);
      const entry = view?.queued.find((q) => q.jobId === jobId);
      return { position: entry?.position ?? null, estimatedStart: entry?.estimatedStart ?? null };
    },

    async status(jobId) {
      await jobOf(jobId);
      return guard(jobId, [...CANCELLABLE, ...TERMINAL], 'queried', async () => {
        const handle = client.workflow.getHandle(jobId);
        let status: TrainingJobStatus;
        try {
          status = await handle.query<TrainingJobStatus>(TRAINING_JOB_QUERIES.status);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) return null;
          throw error;
        }
        const described = await handle.describe();
        for (const activity of described.raw.pendingActivities ?? []) {
          const payload = activity.heartbeatDetails?.payloads?.[0];
          if (!payload) continue;
          const beat = defaultPayloadConverter.fromPayload<{
            attempt?: number;
            step?: number | null;
            totalSteps?: number | null;
            lastCheckpoint?: { step: number; path: string } | null;
          }>(payload);
          if (beat.attempt !== status.attempt) continue;
          status.step = beat.step ?? status.step;
          status.totalSteps = beat.totalSteps ?? status.totalSteps;
          status.lastCheckpoint = beat.lastCheckpoint ?? status.lastCheckpoint;
        }
        if (status.state === 'QUEUED') {
          const entry = (await admissionView())?.queued.find((q) => q.jobId === jobId);
          status.queuePosition = entry?.position ?? null;
          status.estimatedStart = entry?.estimatedStart ?? null;
        }
        return status;
      });
    },
  };
}
