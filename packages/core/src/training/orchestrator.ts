import { LlmopsError } from '../errors.ts';

/**
 * Drives stored training jobs through their durable workflow (SPEC C2). Implemented over Temporal in
 * packages/orchestration; services and the API depend on this interface only.
 * Every method throws a JobControlError when the job does not exist, is in the wrong state, or the
 * workflow engine cannot be reached.
 */
export interface JobOrchestrator {
  /** Idempotent: the workflow id is the job id, so a duplicate start is a no-op. */
  start(jobId: string): Promise<void>;
  cancel(jobId: string, actor: string): Promise<void>;
  pause(jobId: string, actor: string): Promise<void>;
  resume(jobId: string, actor: string): Promise<void>;
  /** A new attempt of a FAILED or CANCELLED job from a recorded checkpoint (default: the latest). */
  retry(jobId: string, actor: string, fromCheckpoint?: string): Promise<void>;
  setPriority(jobId: string, priority: number, actor: string): Promise<void>;
  queuePosition(jobId: string): Promise<{ position: number | null; estimatedStart: string | null }>;
}

export type JobControlErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'BAD_REQUEST';

/**
 * A job control that cannot be carried out. It is an LlmopsError, so the HTTP layer renders it with
 * the status of its code (404, 409, 503, 400) like any other service error.
 */
export class JobControlError extends LlmopsError {
  declare readonly code: JobControlErrorCode;

  constructor(code: JobControlErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, opts);
    this.name = 'JobControlError';
  }
}

export function isJobControlError(e: unknown): e is JobControlError {
  return e instanceof Error && e.name === 'JobControlError' && 'code' in e;
}
