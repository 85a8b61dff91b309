export { createClient } from './client.ts';
export type { Client, ClientOptions } from './client.ts';
export { ApiError, isApiError } from './errors.ts';
export type { ApiErrorInit } from './errors.ts';
export { API_PATH, normaliseBaseUrl } from './http.ts';
export type { Envelope, ResponseInfo } from './http.ts';
export { inferenceError, inferencePath } from './inference.ts';
export type {
  Answered,
  ChatCompletion,
  ChatCompletionChunk,
  ChatMessage,
  ChatRequest,
  ChatUsage,
  InferenceOptions,
  InferenceTarget,
} from './inference.ts';
export { createSseParser } from './sse.ts';
export type { SseMessage, SseParser } from './sse.ts';
export type * from './types.ts';
// The value lists callers need to offer choices (CLI options, console selects) without importing spec.
export {
  DATASET_TYPES,
  ENVIRONMENTS,
  JOB_STATES,
  ROLES,
  ROLLOUT_MODES,
  SUBMISSION_KINDS,
} from '@llmops/spec';
export type { DatasetType, ErrorCode, JobState, Role, RuleCode, SubmissionKind } from '@llmops/spec';
