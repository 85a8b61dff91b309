import type { z } from 'zod';
import type {
  addMemberSchema,
  auditEntrySchema,
  auditVerifySchema,
  createDatasetRefSchema,
  createEndpointSchema,
  createModelSchema,
  createProjectSchema,
  createTokenSchema,
  createdTokenSchema,
  datasetSchema,
  DatasetType,
  DeploymentSpec,
  endpointEventSchema,
  endpointRevisionSchema,
  endpointSchema,
  endpointStatusSchema,
  Environment,
  ErrorCode,
  gpuTypeSchema,
  healthSchema,
  jobLogsSchema,
  JobState,
  memberSchema,
  modelSchema,
  projectSchema,
  retryJobSchema,
  rolloutRequestSchema,
  revalidateItemSchema,
  revalidateResultSchema,
  ruleViolationSchema,
  SubmissionKind,
  submitJobRequestSchema,
  tokenSchema,
  trainingJobSchema,
  validationResultSchema,
  whoamiSchema,
} from '@llmops/spec';

// Responses: what the server serialises (z.output); requests: what callers may send (z.input, defaults optional).
export type Health = z.output<typeof healthSchema>;
export type Whoami = z.output<typeof whoamiSchema>;
export type Project = z.output<typeof projectSchema>;
export type CreateProject = z.input<typeof createProjectSchema>;
export type Member = z.output<typeof memberSchema>;
export type AddMember = z.input<typeof addMemberSchema>;
export type ApiToken = z.output<typeof tokenSchema>;
export type CreateToken = z.input<typeof createTokenSchema>;
export type CreatedToken = z.output<typeof createdTokenSchema>;
export type Model = z.output<typeof modelSchema>;
export type CreateModel = z.input<typeof createModelSchema>;
export type Dataset = z.output<typeof datasetSchema>;
export type CreateDataset = z.input<typeof createDatasetRefSchema>;
export type TrainingJob = z.output<typeof trainingJobSchema>;
/** Where a QUEUED job stands in the admission queue (GET of one job only). */
export type QueuePosition = NonNullable<TrainingJob['queue']>;
export type JobLogs = z.output<typeof jobLogsSchema>;
export type RetryJob = z.input<typeof retryJobSchema>;
export type SubmitJob = z.input<typeof submitJobRequestSchema>;
export type ValidationResult = z.output<typeof validationResultSchema>;
export type GpuType = z.output<typeof gpuTypeSchema>;
export type Endpoint = z.output<typeof endpointSchema>;
export type CreateEndpoint = z.input<typeof createEndpointSchema>;
export type EndpointStatus = z.output<typeof endpointStatusSchema>;
export type EndpointStatusRevision = EndpointStatus['revisions'][number];
export type EndpointRevision = z.output<typeof endpointRevisionSchema>;
export type EndpointEvent = z.output<typeof endpointEventSchema>;
export type RolloutRequest = z.input<typeof rolloutRequestSchema>;
export type AuditEntry = z.output<typeof auditEntrySchema>;
export type AuditVerification = z.output<typeof auditVerifySchema>;
export type RevalidationItem = z.output<typeof revalidateItemSchema>;
export type RevalidationReport = z.output<typeof revalidateResultSchema>;
export type RuleViolation = z.output<typeof ruleViolationSchema>;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

// The two shapes below are declared next to their routes on the server rather than in the spec
// package, so they are restated here; keep them in step with training.routes.ts and serving.routes.ts.
export interface JobEvent {
  id: number;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  actor: string;
  detail: Record<string, unknown>;
  createdAt: string;
}

export interface DeploymentView {
  endpointId: string;
  deploymentSpec: DeploymentSpec;
  image: string;
  imageVariant: 'gpu' | 'cpu';
  imageReason: string;
  converted: Record<string, unknown>;
}

/**
 * One event of GET /training/jobs/{id}/logs/stream. `attempt` announces the attempt whose log follows,
 * `log` is one line of it, `status` a change of the job's state, and `end` its terminal state, after
 * which the server closes the stream.
 */
export type JobLogStreamEvent =
  | { event: 'attempt'; data: { attempt: number } }
  | { event: 'log'; data: { attempt: number; line: string } }
  | { event: 'status'; data: { status: JobState } }
  | { event: 'end'; data: { status: JobState } };

export interface StreamJobLogsOptions {
  /** Stops reading and closes the connection; the iteration then simply ends. */
  signal?: AbortSignal;
}

export interface JobLogsQuery {
  /** Default: the latest attempt. */
  attempt?: number;
  /** How many of the last lines (1-10000); default 500. */
  tail?: number;
}

export interface PageQuery {
  limit?: number;
  offset?: number;
}

export interface ModelQuery extends PageQuery {
  search?: string;
  family?: string;
}

export interface DatasetQuery extends PageQuery {
  search?: string;
  type?: DatasetType;
}

export interface JobQuery extends PageQuery {
  status?: JobState;
  jobType?: SubmissionKind;
}

export interface AuditQuery extends PageQuery {
  action?: string;
}

export interface DatasetUpload {
  /** Path of a JSONL or CSV file (streamed from disk, never read into memory whole), or a Blob. */
  file: string | Blob;
  /** Name the server records; default: the file's base name (required with a Blob). */
  filename?: string;
  name: string;
  version: string;
  type: DatasetType;
}

export interface RevalidateJobsQuery {
  jobId?: string;
  allProjects?: boolean;
}

export interface RevalidateEndpointsQuery {
  endpointId?: string;
  allProjects?: boolean;
}

export interface IdempotencyOptions {
  idempotencyKey?: string;
}

export type { Environment };

/**
 * Server error codes, the one the client raises when an answer is not the API's envelope, and
 * RATE_LIMITED for an inference route's 429 (beyond the endpoint's max_concurrent_requests).
 */
export type ClientErrorCode = ErrorCode | 'INVALID_RESPONSE' | 'RATE_LIMITED';
