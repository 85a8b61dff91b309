import type { KeyValue, Metric, RunStatus } from '@llmops/integrations-mlflow';

/**
 * Pure parts of the tracking delivery: log-batch splitting within MLflow's limits, metric key
 * sanitising, retry backoff, status mapping, and the job spec flattened into run params.
 */

/** MLflow's log-batch limits (mlflow/utils/validation.py). */
export const LOG_BATCH_LIMITS = {
  metrics: 1000,
  params: 100,
  tags: 100,
  items: 1000,
  /** The request body limit is 1 MB; leave room for the envelope and the run id. */
  bytes: 1_000_000 - 4_096,
} as const;

export type LogBatchLimits = { [K in keyof typeof LOG_BATCH_LIMITS]: number };

export interface BatchPart {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

const nonFinite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/** Serialized size of one entry as the adapter sends it (NaN/±Infinity travel as strings). */
function entryBytes(entry: Metric | KeyValue): number {
  // The replacer costs a call per field: only a non-finite metric value needs it.
  const plain = !('value' in entry) || typeof entry.value !== 'number' || Number.isFinite(entry.value);
  return Buffer.byteLength(plain ? JSON.stringify(entry) : JSON.stringify(entry, nonFinite));
}

/** What `logBatchParts` cuts into calls; any iterable of metrics (read once, in order). */
export interface BatchInput {
  metrics?: Iterable<Metric>;
  params?: Iterable<KeyValue>;
  tags?: Iterable<KeyValue>;
}

/**
 * Cuts metrics, params and tags into log-batch calls that each stay within every limit, keeping the
 * order of each list (metrics in the order given: step order within a key survives). Lazy: each call is
 * cut when it is asked for, so the first can be sent before the rest is read.
 */
export function* logBatchParts(
  input: BatchInput,
  limits: LogBatchLimits = LOG_BATCH_LIMITS,
): Generator<BatchPart, void, undefined> {
  let cur: BatchPart = { metrics: [], params: [], tags: [] };
  let bytes = 0;
  const size = () => cur.metrics.length + cur.params.length + cur.tags.length;
  /** Adds the entry; returns the full call it closed, if any. */
  const add = <K extends keyof BatchPart>(kind: K, entry: BatchPart[K][number]): BatchPart | null => {
    const b = entryBytes(entry) + 1;
    if (b > limits.bytes) throw new RangeError(`one ${kind} entry is ${b} bytes, over the log-batch limit`);
    let closed: BatchPart | null = null;
    if (cur[kind].length >= limits[kind] || size() >= limits.items || bytes + b > limits.bytes) {
      closed = cur;
      cur = { metrics: [], params: [], tags: [] };
      bytes = 0;
    }
    (cur[kind] as BatchPart[K][number][]).push(entry);
    bytes += b;
    return closed;
  };
  for (const p of input.params ?? []) {
    const part = add('params', p);
    if (part) yield part;
  }
  for (const t of input.tags ?? []) {
    const part = add('tags', t);
    if (part) yield part;
  }
  for (const m of input.metrics ?? []) {
    const part = add('metrics', m);
    if (part) yield part;
  }
  if (size() > 0) yield cur;
}

/** All the log-batch calls of `logBatchParts` at once. */
export function splitLogBatch(input: BatchInput, limits: LogBatchLimits = LOG_BATCH_LIMITS): BatchPart[] {
  return [...logBatchParts(input, limits)];
}

export const MAX_KEY_LENGTH = 250;

/**
 * A metric (or param) key MLflow accepts: letters, digits, `_ - . / space`, at most 250 characters, a
 * normalized relative path. Other characters become `_`; an empty key becomes `_`.
 */
export function sanitiseKey(key: string): string {
  let k = key.replace(/[^\w.\-/ ]/g, '_');
  const segments = k
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .map((s) => (s === '..' ? '__' : s));
  k = segments.join('/');
  if (k === '') k = '_';
  return k.length > MAX_KEY_LENGTH ? k.slice(0, MAX_KEY_LENGTH) : k;
}

/** Delay before retry number `attempts` (1 = first retry): 500 ms doubling, capped at 30 s. */
export function backoffMs(attempts: number, options: { baseMs?: number; capMs?: number } = {}): number {
  const base = options.baseMs ?? 500;
  const cap = options.capMs ?? 30_000;
  if (!Number.isFinite(attempts) || attempts < 1) return base;
  return Math.min(cap, base * 2 ** Math.min(attempts - 1, 30));
}

/** The MLflow run status for a job status; null while the job has not ended. */
export function runStatusOf(jobStatus: string): RunStatus | null {
  switch (jobStatus) {
    case 'SUCCEEDED':
      return 'FINISHED';
    case 'FAILED':
      return 'FAILED';
    case 'CANCELLED':
      return 'KILLED';
    default:
      return null;
  }
}

/** True when the error says a retry cannot help (the adapter's `MlflowError.retryable === false`). */
export function isPermanent(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false
  );
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** One stored metric point: `{step, values, ts?}` (ts = runtime time in ms; absent in older events). */
export interface StoredPoint {
  step: number;
  values: Record<string, number | string | null>;
  ts?: number;
}

function toValue(v: number | string | null): number | null {
  if (typeof v === 'number') return v;
  // JSON cannot hold NaN/±Infinity; tolerate them spelled out.
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return null;
}

/**
 * The MLflow metrics of stored points, in order: each point's values by key, timestamped with the
 * point's `ts` (or `fallbackTs`), keys sanitised. Non-numeric values are skipped.
 */
export function metricsOf(points: readonly StoredPoint[], fallbackTs: number): Metric[] {
  return [...eachMetricOf(points, fallbackTs)];
}

/** `metricsOf`, one metric at a time. */
export function* eachMetricOf(points: readonly StoredPoint[], fallbackTs: number): Generator<Metric> {
  const keys = new Map<string, string>();
  for (const p of points) {
    if (typeof p !== 'object' || p === null || typeof p.values !== 'object' || p.values === null) continue;
    const step = Number.isInteger(p.step) ? p.step : 0;
    const timestamp = typeof p.ts === 'number' && Number.isFinite(p.ts) ? Math.round(p.ts) : fallbackTs;
    for (const [key, raw] of Object.entries(p.values)) {
      const value = toValue(raw);
      if (value === null) continue;
      let safe = keys.get(key);
      if (safe === undefined) keys.set(key, (safe = sanitiseKey(key)));
      yield { key: safe, value, timestamp, step };
    }
  }
}

export const MAX_PARAM_VALUE = 6000;

/**
 * The job's submission flattened into run params (`trainJobSpec.hyperparams.lr` → `hyperparams.lr`),
 * values as JSON scalars. Stands in for the integration's spec converter (one place to swap).
 */
export function flattenSpecParams(spec: Record<string, unknown>): KeyValue[] {
  const root =
    typeof spec.trainJobSpec === 'object' && spec.trainJobSpec !== null
      ? (spec.trainJobSpec as Record<string, unknown>)
      : spec;
  const out: KeyValue[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0 && path.length > 0) out.push({ key: path.join('.'), value: '{}' });
      for (const [k, v] of entries) walk(v, [...path, k]);
      return;
    }
    const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    out.push({
      key: sanitiseKey(path.join('.')),
      value: text.length > MAX_PARAM_VALUE ? `${text.slice(0, MAX_PARAM_VALUE - 1)}…` : text,
    });
  };
  walk(root, []);
  if (typeof spec.jobType === 'string') out.push({ key: 'submission.job_type', value: spec.jobType });
  return out;
}
