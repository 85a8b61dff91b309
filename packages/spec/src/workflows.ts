import { z } from 'zod';
import { jobStateSchema } from './enums.ts';

/**
 * The durable-execution contract (docs/decisions/0007-durable-execution.md): workflow types, the task
 * queue, signal and query names and the inputs of the Temporal workflows run by apps/worker. The API,
 * the orchestrator and the worker all take these names from here.
 */

/** Task queue of the training worker; a deployment may run several pools under other names. */
export const TRAINING_TASK_QUEUE = 'llmops-training';

export const WORKFLOW_TYPES = {
  /** One execution per training job; workflow id = job id. */
  trainingJob: 'trainingJob',
  /** One long-lived execution per task queue: the admission queue and its capacity (a semaphore). */
  admission: 'admission',
} as const;

/** Workflow id of the admission workflow serving `taskQueue`. */
export function admissionWorkflowId(taskQueue: string): string {
  return `llmops-admission/${taskQueue}`;
}

const jobId = z.uuid();
const actor = z.string().min(1).max(200);
export const jobPrioritySchema = z.number().int().min(0).max(100);
/**
 * A ticket names one request for capacity of one job run (`<runId>/<n>`): the admission answers with it,
 * so a late answer to an earlier request (before a pause, or to a previous run) is recognised and ignored.
 */
const ticket = z.string().min(1).max(200);

export const TRAINING_JOB_SIGNALS = {
  cancel: 'cancel',
  pause: 'pause',
  resume: 'resume',
  setPriority: 'setPriority',
  /** Sent by the admission workflow when the job may start. */
  admitted: 'admitted',
} as const;

/** Payload of the `admitted` signal. */
export const admittedSignalSchema = z.object({ ticket }).strict();
export type AdmittedSignal = z.infer<typeof admittedSignalSchema>;

export const TRAINING_JOB_QUERIES = { status: 'status' } as const;

export const ADMISSION_SIGNALS = {
  enqueue: 'enqueue',
  release: 'release',
  reprioritise: 'reprioritise',
  configure: 'configure',
} as const;

export const ADMISSION_QUERIES = { queue: 'queue' } as const;

/** Payload of the cancel, pause and resume signals. */
export const jobCommandSchema = z.object({ actor }).strict();
export type JobCommand = z.infer<typeof jobCommandSchema>;

export const setPriorityCommandSchema = z.object({ actor, priority: jobPrioritySchema }).strict();
export type SetPriorityCommand = z.infer<typeof setPriorityCommandSchema>;

/** Automatic retries of failed attempts (a retryable runtime failure or a lost process). */
export const attemptRetryPolicySchema = z
  .object({
    /** Attempts in a row that may fail retryably before the job is FAILED. */
    maxAttempts: z.number().int().min(1).max(100).default(3),
    initialBackoffMs: z.number().int().min(0).default(30_000),
    backoffCoefficient: z.number().min(1).default(2),
    maxBackoffMs: z.number().int().min(0).default(600_000),
  })
  .strict();
export type AttemptRetryPolicy = z.infer<typeof attemptRetryPolicySchema>;

/** Timeouts of the run activity and how often progress reaches the database. */
export const trainingJobTimingSchema = z
  .object({
    /** A worker that stops heartbeating for this long is presumed dead; the attempt moves to another worker. */
    runHeartbeatTimeoutMs: z.number().int().min(1_000).default(30_000),
    /** Upper bound of one attempt. */
    runTimeoutMs: z
      .number()
      .int()
      .min(1_000)
      .default(7 * 24 * 3_600_000),
    /** Progress and metric events are written at most this often per job. */
    progressIntervalMs: z.number().int().min(0).default(10_000),
    /** How long a cancelled attempt may take to report its end before the workflow stops waiting. */
    cancelGraceMs: z.number().int().min(0).default(60_000),
  })
  .strict();
export type TrainingJobTiming = z.infer<typeof trainingJobTimingSchema>;

export const trainingJobInputSchema = z
  .object({
    jobId,
    /** Set when a FAILED or CANCELLED job is run again (retry-from-checkpoint). */
    retry: z
      .object({
        actor,
        /** A checkpoint path recorded for the job, or null for the latest one. */
        fromCheckpoint: z.string().min(1).nullable(),
      })
      .strict()
      .nullable()
      .default(null),
    attemptRetry: attemptRetryPolicySchema.default(attemptRetryPolicySchema.parse({})),
    timing: trainingJobTimingSchema.default(trainingJobTimingSchema.parse({})),
  })
  .strict();
export type TrainingJobInput = z.input<typeof trainingJobInputSchema>;
export type ResolvedTrainingJobInput = z.output<typeof trainingJobInputSchema>;

export const checkpointRefSchema = z.object({ step: z.number().int().min(0), path: z.string().min(1) });
export type CheckpointRef = z.infer<typeof checkpointRefSchema>;

/** Answer of the trainingJob `status` query. */
export const trainingJobStatusSchema = z.object({
  jobId,
  state: jobStateSchema,
  /** The current or last attempt (1, 2, …); null before the first one. */
  attempt: z.number().int().min(1).nullable(),
  step: z.number().int().min(0).nullable(),
  totalSteps: z.number().int().min(0).nullable(),
  lastCheckpoint: checkpointRefSchema.nullable(),
  priority: jobPrioritySchema,
  /** A pause or cancel that was accepted and is being carried out. */
  pending: z.enum(['pause', 'cancel']).nullable(),
  /** Filled in from the admission queue by the orchestrator; the job workflow reports null. */
  queuePosition: z.number().int().min(1).nullable(),
  estimatedStart: z.string().nullable(),
  message: z.string().nullable(),
});
export type TrainingJobStatus = z.infer<typeof trainingJobStatusSchema>;

export const trainingJobResultSchema = z.object({
  jobId,
  state: jobStateSchema,
  attempts: z.number().int().min(0),
  modelId: z.string().nullable(),
  message: z.string().nullable(),
});
export type TrainingJobResult = z.infer<typeof trainingJobResultSchema>;

export const admissionConfigSchema = z
  .object({
    /** Runs admitted at once across all projects. */
    maxConcurrentRuns: z.number().int().min(1).max(10_000),
    /** Runs admitted at once per project; null = only the global capacity applies. */
    maxRunsPerProject: z.number().int().min(1).max(10_000).nullable(),
  })
  .strict();
export type AdmissionConfig = z.infer<typeof admissionConfigSchema>;

export const admissionEnqueueSchema = z
  .object({
    jobId,
    projectId: z.string().min(1),
    priority: jobPrioritySchema,
    /** Submission time of the job (epoch ms): first submitted, first served within a priority. */
    submittedAt: z.number(),
    ticket,
  })
  .strict();
export type AdmissionEnqueue = z.infer<typeof admissionEnqueueSchema>;

export const admissionReleaseSchema = z
  .object({
    jobId,
    /** True when the run succeeded: its duration feeds the start estimates. */
    completed: z.boolean(),
    ticket,
  })
  .strict();
export type AdmissionRelease = z.infer<typeof admissionReleaseSchema>;

export const admissionReprioritiseSchema = z.object({ jobId, priority: jobPrioritySchema }).strict();
export type AdmissionReprioritise = z.infer<typeof admissionReprioritiseSchema>;

export const queuedJobSchema = z.object({
  jobId,
  projectId: z.string(),
  priority: jobPrioritySchema,
  submittedAt: z.number(),
  /** Workflow time in epoch milliseconds. */
  enqueuedAt: z.number(),
  /** Arrival order, the last tie-breaker. */
  seq: z.number().int(),
  ticket: z.string(),
});
export type QueuedJob = z.infer<typeof queuedJobSchema>;

export const runningJobSchema = z.object({
  jobId,
  projectId: z.string(),
  admittedAt: z.number(),
  ticket: z.string(),
});
export type RunningJob = z.infer<typeof runningJobSchema>;

/** Everything the admission workflow carries across continue-as-new. */
export const admissionStateSchema = z.object({
  config: admissionConfigSchema,
  queue: z.array(queuedJobSchema),
  running: z.array(runningJobSchema),
  /** Project → order number (`seq`) of its latest admission: round robin among equals. */
  lastAdmission: z.record(z.string(), z.number()),
  /** Durations of recently completed runs, newest last. */
  recentRunMs: z.array(z.number()),
  seq: z.number().int(),
});
export type AdmissionState = z.infer<typeof admissionStateSchema>;

export const admissionInputSchema = z
  .object({ config: admissionConfigSchema, state: admissionStateSchema.nullable().default(null) })
  .strict();
export type AdmissionInput = z.input<typeof admissionInputSchema>;

/** Answer of the admission `queue` query. */
export const admissionQueueViewSchema = z.object({
  config: admissionConfigSchema,
  running: z.array(z.object({ jobId, projectId: z.string(), admittedAt: z.string() })),
  queued: z.array(
    z.object({
      jobId,
      projectId: z.string(),
      priority: jobPrioritySchema,
      /** 1 = next to be admitted. */
      position: z.number().int().min(1),
      enqueuedAt: z.string(),
      /** ISO time; null while no run has completed yet to estimate from. */
      estimatedStart: z.string().nullable(),
    }),
  ),
  averageRunMs: z.number().nullable(),
});
export type AdmissionQueueView = z.infer<typeof admissionQueueViewSchema>;
