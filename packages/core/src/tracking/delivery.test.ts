import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  flattenSpecParams,
  isPermanent,
  LOG_BATCH_LIMITS,
  logBatchParts,
  metricsOf,
  runStatusOf,
  sanitiseKey,
  splitLogBatch,
} from './delivery.ts';

const metric = (i: number) => ({ key: `k${i % 7}`, value: i, timestamp: 1000 + i, step: i });

describe('splitLogBatch', () => {
  it('keeps every call within the count limits and the order of the metrics', () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => metric(i));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const parts = splitLogBatch({ metrics, params });
    for (const p of parts) {
      expect(p.metrics.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.metrics);
      expect(p.params.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.params);
      expect(p.metrics.length + p.params.length + p.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.items);
    }
    expect(parts.flatMap((p) => p.metrics)).toEqual(metrics);
    expect(parts.flatMap((p) => p.params)).toEqual(params);
    expect(parts.length).toBe(4);
  });

  it('splits by size before the 1 MB body limit', () => {
    const tags = Array.from({ length: 90 }, (_, i) => ({ key: `t${i}`, value: 'x'.repeat(20_000) }));
    const parts = splitLogBatch({ tags });
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Buffer.byteLength(JSON.stringify(p.tags))).toBeLessThan(1_000_000);
    expect(parts.flatMap((p) => p.tags)).toHaveLength(90);
  });

  it('refuses an entry larger than a whole call', () => {
    expect(() => splitLogBatch({ tags: [{ key: 't', value: 'x'.repeat(1_100_000) }] })).toThrow(
      /over the log-batch limit/,
    );
  });

  it('returns no call for nothing', () => {
    expect(splitLogBatch({})).toEqual([]);
  });

  it('counts a non-finite value as the string the adapter sends', () => {
    const nan = { key: 'k', value: Number.NaN, timestamp: 1, step: 1 };
    const entry = Buffer.byteLength(JSON.stringify({ ...nan, value: 'NaN' })) + 1;
    // One byte short of two entries: each goes alone (counted as `null` they would fit two by two).
    const limits = { ...LOG_BATCH_LIMITS, bytes: entry * 2 - 1 };
    expect(splitLogBatch({ metrics: [nan, nan, nan] }, limits).map((p) => p.metrics.length)).toEqual([
      1, 1, 1,
    ]);
    const one = { ...nan, value: 1 };
    expect(splitLogBatch({ metrics: [one, one, one] }, limits).map((p) => p.metrics.length)).toEqual([2, 1]);
  });
});

describe('logBatchParts', () => {
  it('cuts each call only when asked for it, reading no more metrics than that call needs', () => {
    let read = 0;
    function* metrics() {
      for (let i = 0; i < 2500; i++) {
        read += 1;
        yield metric(i);
      }
    }
    const parts = logBatchParts({ metrics: metrics() });
    expect(read).toBe(0);
    expect(parts.next().value?.metrics).toHaveLength(1000);
    expect(read).toBe(1001); // the 1001st metric closed the first call
    const rest = [...parts];
    expect(rest.map((p) => p.metrics.length)).toEqual([1000, 500]);
    expect(read).toBe(2500);
  });

  it('gives the same calls as splitLogBatch', () => {
    const metrics = Array.from({ length: 1234 }, (_, i) => metric(i));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    expect([...logBatchParts({ metrics, params })]).toEqual(splitLogBatch({ metrics, params }));
  });
});

describe('sanitiseKey', () => {
  it('keeps valid keys and replaces what MLflow rejects', () => {
    expect(sanitiseKey('train/loss')).toBe('train/loss');
    expect(sanitiseKey('eval loss-1.x')).toBe('eval loss-1.x');
    expect(sanitiseKey('loss@step#1')).toBe('loss_step_1');
    expect(sanitiseKey('/abs//../x/./y')).toBe('abs/__/x/y');
    expect(sanitiseKey('')).toBe('_');
    expect(sanitiseKey('k'.repeat(300))).toHaveLength(250);
  });
});

describe('backoffMs', () => {
  it('doubles from 500 ms and stops at the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(10)).toBe(30_000);
    expect(backoffMs(1000)).toBe(30_000);
    expect(backoffMs(0)).toBe(500);
    expect(backoffMs(3, { baseMs: 100, capMs: 250 })).toBe(250);
  });
});

describe('runStatusOf / isPermanent', () => {
  it('maps ended job states to run states', () => {
    expect(runStatusOf('SUCCEEDED')).toBe('FINISHED');
    expect(runStatusOf('FAILED')).toBe('FAILED');
    expect(runStatusOf('CANCELLED')).toBe('KILLED');
    expect(runStatusOf('RUNNING')).toBeNull();
  });

  it('treats only retryable === false as permanent', () => {
    expect(isPermanent(Object.assign(new Error('x'), { retryable: false }))).toBe(true);
    expect(isPermanent(Object.assign(new Error('x'), { retryable: true }))).toBe(false);
    expect(isPermanent(new Error('socket hang up'))).toBe(false);
    expect(isPermanent(null)).toBe(false);
  });
});

describe('metricsOf', () => {
  it('timestamps with the point ts, keeps NaN and infinities, skips non-numbers', () => {
    const out = metricsOf(
      [
        { step: 1, values: { loss: 2, 'bad key!': 1 }, ts: 5000 },
        { step: 2, values: { loss: Number.NaN, grad: 'Infinity', junk: 'x' } },
      ],
      9000,
    );
    expect(out).toEqual([
      { key: 'loss', value: 2, timestamp: 5000, step: 1 },
      { key: 'bad key_', value: 1, timestamp: 5000, step: 1 },
      { key: 'loss', value: Number.NaN, timestamp: 9000, step: 2 },
      { key: 'grad', value: Number.POSITIVE_INFINITY, timestamp: 9000, step: 2 },
    ]);
  });
});

describe('flattenSpecParams', () => {
  it('flattens the TrainJobSpec into dotted params', () => {
    const params = flattenSpecParams({
      jobType: 'finetune',
      trainJobSpec: {
        hyperparams: { lr: 0.001, batch_size: 8 },
        base_model_ref: null,
        output: { artifact_name: 'm' },
      },
    });
    expect(params).toEqual([
      { key: 'hyperparams.lr', value: '0.001' },
      { key: 'hyperparams.batch_size', value: '8' },
      { key: 'base_model_ref', value: 'null' },
      { key: 'output.artifact_name', value: 'm' },
      { key: 'submission.job_type', value: 'finetune' },
    ]);
  });
});
