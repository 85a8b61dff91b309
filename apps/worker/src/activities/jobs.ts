import type { Db, JobEventRow, JobRow } from '@llmops/db';
import type { CheckpointRef } from '@llmops/spec';
import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps, JobEventInput, LoadedJob, TransitionInput } from './types.ts';

/** Failure types the workflows treat as final (they never pass on retry). */
export const NON_RETRYABLE = {
  jobNotFound: 'JobNotFound',
  invalidJob: 'InvalidJob',
  stateConflict: 'StateConflict',
} as const;

export async function getJob(db: Db, jobId: string): Promise<JobRow> {
  const [job] = await db.repos.jobs.listAll({ jobId });
  if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} does not exist`, NON_RETRYABLE.jobNotFound);
  return job;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The newest checkpoint recorded for the job, by any attempt. */
export function lastCheckpointOf(events: readonly JobEventRow[]): CheckpointRef | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const step = num(e.detail.step);
    if (e.type === 'checkpoint' && step !== null && typeof e.detail.path === 'string')
      return { step, path: e.detail.path };
  }
  return null;
}

export function attemptsOf(events: readonly JobEventRow[]): number {
  let max = 0;
  for (const e of events) if (e.type === 'attempt_started') max = Math.max(max, num(e.detail.attempt) ?? 0);
  return max;
}

/** Priority changes are recorded as events; the newest one wins over the submitted priority. */
export function priorityOf(job: JobRow, events: readonly JobEventRow[]): number {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const to = num(e.detail.to);
    if (e.type === 'priority_changed' && to !== null) return to;
  }
  return job.priority;
}

/** The event detail with the workflow's operation key, by which a repeated write is recognised. */
function withOp(
  detail: Record<string, unknown> | undefined,
  op: string | undefined,
): Record<string, unknown> {
  return op ? { ...detail, op } : (detail ?? {});
}

export function createJobActivities(deps: Pick<ActivityDeps, 'db'>) {
  const { db } = deps;
  const alreadyDone = async (jobId: string, op: string | undefined): Promise<boolean> =>
    op !== undefined && (await db.repos.jobs.hasEventWithOp(jobId, op));
  return {
    async loadJob(input: { jobId: string }): Promise<LoadedJob> {
      const job = await getJob(db, input.jobId);
      const events = await db.repos.jobs.listEvents(job.id);
      return {
        projectId: job.projectId,
        status: job.status,
        priority: priorityOf(job, events),
        submittedAt: Date.parse(job.createdAt),
        attempts: attemptsOf(events),
        lastCheckpoint: lastCheckpointOf(events),
      };
    },

    /**
     * Compare-and-set of the job status with its event. Idempotent: a retry after a committed
     * transition finds the job already in `to` and succeeds.
     */
    async transitionJob(input: TransitionInput): Promise<void> {
      if (await alreadyDone(input.jobId, input.op)) return;
      const moved = await db.repos.jobs.transition({
        id: input.jobId,
        from: input.from,
        to: input.to,
        actor: input.actor,
        detail: withOp(input.detail, input.op),
      });
      if (moved) return;
      const job = await getJob(db, input.jobId);
      if (job.status === input.to) return;
      throw ApplicationFailure.nonRetryable(
        `Job ${input.jobId} is ${job.status}; expected ${input.from.join(' or ')} before moving to ${input.to}`,
        NON_RETRYABLE.stateConflict,
      );
    },

    async recordJobEvent(input: JobEventInput): Promise<void> {
      if (await alreadyDone(input.jobId, input.op)) return;
      await db.sql.transaction(async (tx) => {
        await db.repos.jobs.appendEvent(
          {
            jobId: input.jobId,
            type: input.type,
            actor: input.actor,
            detail: withOp(input.detail, input.op),
          },
          tx,
        );
        // The stored priority follows the workflow's, so lists and the API show the current one.
        const to = input.detail?.to;
        if (input.type === 'priority_changed' && typeof to === 'number')
          await db.repos.jobs.setPriority(input.jobId, to, tx);
      });
    },
  };
}
