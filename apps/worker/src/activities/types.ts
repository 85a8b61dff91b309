import type { Db, JobStatus } from '@llmops/db';
import type { CheckpointRef, RuntimeSpec } from '@llmops/spec';
import type { Client } from '@temporalio/client';
import type { ExecutionOutcome, Executor, ServingRuntime } from '@llmops/core';

export interface ActivityDeps {
  db: Db;
  executor: Executor;
  /** For signal-with-start of the admission workflow and for describing job workflows. */
  client: Client;
  /** `<runsDir>/<jobId>/` holds a job's checkpoints (shared by its attempts). */
  runsDir: string;
  /** Root of the local artifact store: `s3://bucket/key` ↔ `<artifactsDir>/bucket/key`. */
  artifactsDir: string;
  checkpointEveryNSteps: number;
  /** Last word on the resolved spec (e.g. the runtime's synthetic mode for load tests). */
  adjustSpec?: ((spec: RuntimeSpec) => RuntimeSpec) | undefined;
  /** The serving backend, routing tables and telemetry; absent: this worker runs no rollouts. */
  serving?: ServingRuntime | undefined;
}

/** A job as the workflow needs it at its start. */
export interface LoadedJob {
  projectId: string;
  status: JobStatus;
  priority: number;
  /** Submission time, epoch ms. */
  submittedAt: number;
  /** Highest attempt number started so far (0 = none). */
  attempts: number;
  lastCheckpoint: CheckpointRef | null;
}

export interface TransitionInput {
  jobId: string;
  from: JobStatus[];
  to: JobStatus;
  actor: string;
  detail?: Record<string, unknown>;
  /** Unique per write of one workflow execution: a repeated call with the same key changes nothing. */
  op?: string;
}

export interface JobEventInput {
  jobId: string;
  type: string;
  actor: string;
  detail?: Record<string, unknown>;
  /** Unique per write of one workflow execution: a repeated call with the same key changes nothing. */
  op?: string;
}

/** What the catalog entry of the trained model needs besides the run's own result. */
export interface ModelPlan {
  projectId: string;
  name: string;
  modelFamily: string;
  maxPositionEmbeddings: number;
  /** Known before the run (base model, or the architecture of a model trained from scratch). */
  parameterCount: number | null;
  datasetSha256: string | null;
  specHash: string;
  parentModel: { id: string; name: string; version: string } | null;
}

/** The resolved runtime spec of one attempt and what registering its model will need. */
export interface RunPlan {
  spec: RuntimeSpec;
  model: ModelPlan;
}

export interface RunAttemptInput {
  jobId: string;
  attempt: number;
  spec: RuntimeSpec;
  progressIntervalMs: number;
}

export interface RunAttemptResult {
  outcome: ExecutionOutcome;
  runtimeVersion: string | null;
  /** Directory of the saved model (the runtime's `artifact` event of kind model, else output.dir). */
  modelPath: string;
  lastStep: number | null;
  lastCheckpoint: CheckpointRef | null;
}

/** Heartbeat details of the run activity: what `describe` shows while an attempt runs. */
export interface RunHeartbeat {
  attempt: number;
  step: number | null;
  totalSteps: number | null;
  lastCheckpoint: CheckpointRef | null;
}

export interface RegisterModelInput {
  jobId: string;
  attempt: number;
  plan: ModelPlan;
  modelPath: string;
  metrics: Record<string, number>;
  runtimeVersion: string | null;
}

export interface RegisteredModel {
  id: string;
  name: string;
  version: string;
  storageUri: string;
}
