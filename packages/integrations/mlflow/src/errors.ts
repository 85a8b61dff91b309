/** Codes the platform adds to the server's own `error_code`s. */
export type PlatformErrorCode = 'UNAVAILABLE' | 'TIMEOUT' | 'BAD_RESPONSE' | 'INVALID_ARGUMENT';

/**
 * The server's `error_code` (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, …) or
 * one of the platform's: UNAVAILABLE (connection refused/reset), TIMEOUT, BAD_RESPONSE (non-JSON or unexpected
 * shape), INVALID_ARGUMENT (rejected before any request was sent).
 */
export type MlflowErrorCode = PlatformErrorCode | (string & {});

/** Status codes of errors that carry no `error_code` in their body (e.g. from a proxy in front of MLflow). */
const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'ENDPOINT_NOT_FOUND',
  409: 'RESOURCE_CONFLICT',
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  501: 'NOT_IMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'TIMEOUT',
};

export function codeForStatus(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'UNAVAILABLE' : 'BAD_RESPONSE');
}

/** Network errors, timeouts, 429 and 5xx are worth retrying; other 4xx and bad responses are not. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class MlflowError extends Error {
  override readonly name = 'MlflowError';
  readonly code: MlflowErrorCode;
  /** HTTP status of the answer; null when there was none (network error, timeout, rejected input). */
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  /** The operation, e.g. "runs/log-batch". */
  readonly operation: string;

  constructor(input: {
    operation: string;
    code: MlflowErrorCode;
    message: string;
    httpStatus?: number | null;
    retryable?: boolean;
    cause?: unknown;
  }) {
    super(`MLflow ${input.operation}: ${input.code}: ${input.message}`, { cause: input.cause });
    this.operation = input.operation;
    this.code = input.code;
    this.httpStatus = input.httpStatus ?? null;
    this.retryable =
      input.retryable ??
      (input.httpStatus == null
        ? input.code === 'UNAVAILABLE' || input.code === 'TIMEOUT'
        : retryableStatus(input.httpStatus));
  }
}

/** True for an MlflowError worth retrying (network, timeout, 429, 5xx); false for anything else. */
export function isRetryable(error: unknown): boolean {
  return error instanceof MlflowError && error.retryable;
}
