import { metricValueToWire } from './client.ts';
import type { KeyValue, Metric } from './types.ts';

/** Limits of one `runs/log-batch` call (MLflow's proto and `mlflow/utils/validation.py`). */
export const batchLimits = {
  metrics: 1000,
  params: 100,
  tags: 100,
  totalItems: 1000,
  /** The request body; a little is kept back for the envelope (`{"run_id": …}`). */
  bytes: 1_000_000,
} as const;

export interface BatchItems {
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface Batch {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** The envelope around the items: `{"run_id":"<32 hex>","metrics":[],"params":[],"tags":[]}` plus margin. */
const ENVELOPE_BYTES = 256;
const encoder = new TextEncoder();

function bytesOf(item: unknown): number {
  // +1 for the comma between array items.
  return encoder.encode(JSON.stringify(item)).length + 1;
}

/**
 * Splits metrics, params and tags into log-batch calls within `batchLimits`. Metrics keep their order across
 * and within batches; params and tags come first so a run's identity lands before its numbers. A single item
 * larger than the byte limit cannot be sent at all and is rejected with its key.
 */
export function batchForLogBatch(items: BatchItems, limits: typeof batchLimits = batchLimits): Batch[] {
  const batches: Batch[] = [];
  let cur: Batch = { metrics: [], params: [], tags: [] };
  let bytes = ENVELOPE_BYTES;
  const count = () => cur.metrics.length + cur.params.length + cur.tags.length;
  const flush = () => {
    if (count() > 0) batches.push(cur);
    cur = { metrics: [], params: [], tags: [] };
    bytes = ENVELOPE_BYTES;
  };
  const add = <K extends keyof Batch>(kind: K, item: Batch[K][number], size: number) => {
    if (ENVELOPE_BYTES + size > limits.bytes)
      throw new Error(
        `log-batch: ${kind.slice(0, -1)} ${JSON.stringify((item as { key: string }).key.slice(0, 100))} alone is ` +
          `${size} bytes, more than the ${limits.bytes}-byte request limit`,
      );
    const limit = limits[kind];
    if (cur[kind].length >= limit || count() >= limits.totalItems || bytes + size > limits.bytes) flush();
    (cur[kind] as Batch[K][number][]).push(item);
    bytes += size;
  };
  for (const p of items.params ?? []) add('params', p, bytesOf(p));
  for (const t of items.tags ?? []) add('tags', t, bytesOf(t));
  for (const m of items.metrics ?? [])
    add('metrics', m, bytesOf({ ...m, value: metricValueToWire(m.value) }));
  flush();
  return batches;
}

/**
 * A metric key MLflow accepts: characters outside `[/\w.\- ]` become `_`, path tricks (`a//b`, `./`, `..`,
 * a leading or trailing `/`) are flattened, at most 250 characters; an empty key becomes `_`.
 */
export function sanitizeMetricKey(key: string): string {
  // MLflow rejects names that change under posixpath.normpath: no empty, "." or ".." path parts.
  const k = key
    .replace(/[^A-Za-z0-9_./\- ]/g, '_')
    .slice(0, 250)
    .split('/')
    .map((part) => (part === '.' || part === '..' ? part.replace(/\./g, '_') : part))
    .filter((part) => part !== '')
    .join('/');
  return k === '' ? '_' : k;
}
