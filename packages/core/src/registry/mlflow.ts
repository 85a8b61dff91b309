import { createMlflowClient, type MlflowApi } from '@llmops/integrations-mlflow';
import { createError, isLlmopsError, type LlmopsError } from '../errors.ts';

/** Tag keys the platform writes on MLflow runs, registered models and model versions. */
export const LLMOPS_TAGS = {
  projectId: 'llmops.project_id',
  jobId: 'llmops.job_id',
  /** SHA-256 of the training dataset, on model versions. */
  datasetDigest: 'llmops.dataset_sha256',
  specHash: 'llmops.spec_hash',
  runtimeVersion: 'llmops.runtime_version',
} as const;

/**
 * The platform's MLflow client from configuration: null when MLflow is switched off (MLFLOW_ENABLED=false),
 * in which case the registry and experiments answer 503 naming MLflow.
 */
export function mlflowFromEnv(env: {
  MLFLOW_ENABLED: boolean;
  MLFLOW_TRACKING_URI: string;
}): MlflowApi | null {
  return env.MLFLOW_ENABLED ? createMlflowClient({ baseUrl: env.MLFLOW_TRACKING_URI }) : null;
}

/** The MLflow client, or 503 naming MLflow when the platform runs without one. */
export function requireMlflow(mlflow: MlflowApi | null | undefined): MlflowApi {
  if (!mlflow)
    throw createError(
      'UNAVAILABLE',
      'MLflow is not configured: set MLFLOW_TRACKING_URI to the tracking server and restart the platform',
    );
  return mlflow;
}

function statusOf(e: unknown): number | null {
  if (typeof e !== 'object' || e === null) return null;
  const r = e as Record<string, unknown>;
  for (const key of ['status', 'statusCode', 'httpStatus'])
    if (typeof r[key] === 'number') return r[key] as number;
  return null;
}

/**
 * An MLflow failure as the platform's error: MLflow refusing the request (4xx other than 429) is the
 * caller's problem (400, with MLflow's message); anything else — refused connection, timeout, 5xx,
 * 429 — means MLflow is unavailable (503, naming the server).
 */
export function mlflowFailure(mlflow: MlflowApi, e: unknown): LlmopsError {
  if (isLlmopsError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  const status = statusOf(e);
  const r = (e ?? {}) as { retryable?: unknown; code?: unknown };
  const retryable = r.retryable === true;
  if (r.code === 'INVALID_ARGUMENT')
    return createError('BAD_REQUEST', `MLflow cannot take the request: ${message}`, { cause: e });
  if (status !== null && status >= 400 && status < 500 && status !== 429 && !retryable)
    return createError('BAD_REQUEST', `MLflow rejected the request: ${message}`, { cause: e });
  return createError('UNAVAILABLE', `MLflow at ${mlflow.baseUrl} is unavailable: ${message}`, { cause: e });
}

/** Runs one or more MLflow calls, turning their failures into the platform's errors. */
export async function callMlflow<T>(mlflow: MlflowApi, fn: (api: MlflowApi) => Promise<T>): Promise<T> {
  try {
    return await fn(mlflow);
  } catch (e) {
    throw mlflowFailure(mlflow, e);
  }
}

/**
 * A string literal for an MLflow search filter. MLflow's filter grammar has no escape for a quote inside
 * a quoted string, so a value with both quote kinds cannot be searched for and is refused.
 */
export function filterLiteral(value: string, what: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw createError('BAD_REQUEST', `${what} cannot contain both ' and " (MLflow search cannot express it)`);
}

export const tagsToRecord = (tags: { key: string; value: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));

export const msToIso = (ms: number | undefined | null): string | null =>
  typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
