/**
 * What went wrong talking to the Kubernetes API, in terms a caller can act on:
 * - NOT_FOUND (404), CONFLICT (409: AlreadyExists, or a stale resourceVersion), FORBIDDEN (401, 403),
 * - INVALID (400, 422: the object or request was refused; fix it, do not retry),
 * - EXPIRED (410: a watch or list resumed from a resourceVersion the server no longer keeps),
 * - UNAVAILABLE (connection refused or reset, 429, 5xx), TIMEOUT (no answer in time, 504).
 */
export type KubeErrorCode =
  'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'INVALID' | 'EXPIRED' | 'UNAVAILABLE' | 'TIMEOUT';

const MARK = Symbol.for('llmops.kubeError');

export interface KubeErrorInput {
  code: KubeErrorCode;
  message: string;
  /** e.g. "create serving.kserve.io/v1beta1 inferenceservices kserve/chat". */
  operation: string;
  httpStatus?: number | null;
  /** The `reason` of the server's Status (AlreadyExists, Conflict, Invalid, Expired, …). */
  reason?: string | null;
  /** Field errors of a 422 (`details.causes`). */
  causes?: { field: string; message: string }[];
  retryable?: boolean;
  cause?: unknown;
}

export class KubeError extends Error {
  override readonly name = 'KubeError';
  readonly code: KubeErrorCode;
  readonly operation: string;
  readonly httpStatus: number | null;
  readonly reason: string | null;
  readonly causes: { field: string; message: string }[];
  /** True when the same request may succeed later (unavailable, timeout, a stale resourceVersion). */
  readonly retryable: boolean;
  readonly [MARK] = true;

  constructor(input: KubeErrorInput) {
    super(`Kubernetes ${input.operation}: ${input.code}: ${input.message}`, { cause: input.cause });
    this.code = input.code;
    this.operation = input.operation;
    this.httpStatus = input.httpStatus ?? null;
    this.reason = input.reason ?? null;
    this.causes = input.causes ?? [];
    this.retryable =
      input.retryable ??
      (input.code === 'UNAVAILABLE' ||
        input.code === 'TIMEOUT' ||
        (input.code === 'CONFLICT' && input.reason !== 'AlreadyExists'));
  }
}

export function isKubeError(e: unknown): e is KubeError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[MARK] === true;
}

export function codeForStatus(status: number): KubeErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 410) return 'EXPIRED';
  if (status === 504) return 'TIMEOUT';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  return 'INVALID';
}

/** A Kubernetes `Status` object, as the API server sends with every error. */
interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string }[] };
}

function parseBody(body: unknown): StatusBody | null {
  if (typeof body === 'string') {
    try {
      return parseBody(JSON.parse(body));
    } catch {
      return null;
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : null;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** The KubeError for an HTTP status and the server's Status body (when it sent one). */
export function kubeErrorFromStatus(operation: string, httpStatus: number, body: unknown): KubeError {
  const status = parseBody(body);
  const code = codeForStatus(httpStatus);
  const reason = status?.reason ?? null;
  return new KubeError({
    code: reason === 'Timeout' ? 'TIMEOUT' : code,
    operation,
    httpStatus,
    reason,
    message: status?.message ?? `HTTP ${httpStatus}`,
    causes: (status?.details?.causes ?? []).map((c) => ({
      field: c.field ?? '',
      message: c.message ?? '',
    })),
  });
}

/**
 * Maps whatever the client library threw (ApiException with an HTTP code and Status body, a fetch error
 * with a socket error code, an abort from the request timeout) to a KubeError.
 */
export function toKubeError(operation: string, e: unknown): KubeError {
  if (isKubeError(e)) return e;
  const err = e as { code?: unknown; body?: unknown; name?: string; type?: string; message?: string };
  if (typeof err?.code === 'number') return kubeErrorFromStatus(operation, err.code, err.body);
  const statusCode = (e as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number') return kubeErrorFromStatus(operation, statusCode, null);
  const message = err?.message ?? String(e);
  if (err?.name === 'AbortError' || err?.type === 'aborted' || err?.name === 'TimeoutError')
    return new KubeError({ code: 'TIMEOUT', operation, message: 'no answer in time', cause: e });
  const sysCode = typeof err?.code === 'string' ? err.code : (e as { errno?: string })?.errno;
  if (err?.type === 'system' || (typeof sysCode === 'string' && NETWORK_CODES.has(sysCode)))
    return new KubeError({ code: 'UNAVAILABLE', operation, message, cause: e });
  return new KubeError({ code: 'UNAVAILABLE', operation, message, cause: e, retryable: false });
}
