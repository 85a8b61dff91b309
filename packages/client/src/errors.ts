import type { ClientErrorCode, RuleViolation } from './types.ts';

const API_ERROR = Symbol.for('llmops.client.ApiError');

export interface ApiErrorInit {
  /** HTTP status; 0 when no answer arrived at all. */
  status: number;
  code: ClientErrorCode;
  message: string;
  violations?: RuleViolation[];
  requestId?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** An error envelope from the platform, or the client's account of why there was no usable answer. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ClientErrorCode;
  readonly violations: RuleViolation[];
  readonly requestId: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly [API_ERROR] = true;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.violations = init.violations ?? [];
    this.requestId = init.requestId;
    this.details = init.details;
  }
}

// A marker instead of instanceof: the CLI and the web console may load two copies of this module.
export function isApiError(e: unknown): e is ApiError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[API_ERROR] === true;
}
