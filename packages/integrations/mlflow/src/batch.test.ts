import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchForLogBatch, batchLimits, sanitizeMetricKey, type Metric } from './index.ts';

const NAME = /^[/\w.\- ]*$/;
const enc = new TextEncoder();

function bodyBytes(b: { metrics: Metric[]; params: unknown[]; tags: unknown[] }): number {
  const metrics = b.metrics.map((m) => ({
    ...m,
    value: Number.isFinite(m.value) ? m.value : String(m.value),
  }));
  return enc.encode(JSON.stringify({ run_id: 'f'.repeat(32), metrics, params: b.params, tags: b.tags }))
    .length;
}

const metric = (i: number, value = i): Metric => ({
  key: `m${i % 7}`,
  value,
  timestamp: 1_700_000_000_000 + i,
  step: i,
});

describe('batchForLogBatch', () => {
  it('keeps every item within the limits of one call, metrics in their order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3500 }),
        fc.integer({ min: 0, max: 250 }),
        fc.integer({ min: 0, max: 250 }),
        fc.integer({ min: 0, max: 3000 }),
        (nm, np, nt, valueLen) => {
          const metrics = Array.from({ length: nm }, (_, i) => metric(i, i % 13 === 0 ? NaN : i / 3));
          const params = Array.from({ length: np }, (_, i) => ({
            key: `p${i}`,
            value: 'v'.repeat(valueLen),
          }));
          const tags = Array.from({ length: nt }, (_, i) => ({ key: `t${i}`, value: 'w'.repeat(valueLen) }));
          const batches = batchForLogBatch({ metrics, params, tags });
          for (const b of batches) {
            expect(b.metrics.length).toBeLessThanOrEqual(batchLimits.metrics);
            expect(b.params.length).toBeLessThanOrEqual(batchLimits.params);
            expect(b.tags.length).toBeLessThanOrEqual(batchLimits.tags);
            expect(b.metrics.length + b.params.length + b.tags.length).toBeLessThanOrEqual(
              batchLimits.totalItems,
            );
            expect(b.metrics.length + b.params.length + b.tags.length).toBeGreaterThan(0);
            expect(bodyBytes(b)).toBeLessThanOrEqual(batchLimits.bytes);
          }
          // Nothing lost, nothing doubled, metric order kept.
          expect(batches.flatMap((b) => b.metrics)).toEqual(metrics);
          expect(batches.flatMap((b) => b.params)).toEqual(params);
          expect(batches.flatMap((b) => b.tags)).toEqual(tags);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('uses as few calls as the limits allow', () => {
    expect(
      batchForLogBatch({ metrics: Array.from({ length: 2500 }, (_, i) => metric(i)) }).map(
        (b) => b.metrics.length,
      ),
    ).toEqual([1000, 1000, 500]);
    const mixed = batchForLogBatch({
      params: Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: '1' })),
      metrics: Array.from({ length: 950 }, (_, i) => metric(i)),
    });
    expect(mixed.map((b) => [b.params.length, b.metrics.length])).toEqual([
      [100, 0],
      [50, 950],
    ]);
    expect(batchForLogBatch({})).toEqual([]);
  });

  it('splits by size when values are large (1 MB per call)', () => {
    const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'x'.repeat(20_000) }));
    const batches = batchForLogBatch({ tags });
    expect(batches.length).toBe(3);
    for (const b of batches) expect(bodyBytes(b)).toBeLessThanOrEqual(1_000_000);
  });

  it('rejects a single item larger than a whole call, naming it', () => {
    expect(() => batchForLogBatch({ tags: [{ key: 'huge', value: 'x'.repeat(1_100_000) }] })).toThrow(
      /log-batch: tag "huge" alone is \d+ bytes, more than the 1000000-byte request limit/,
    );
  });
});

describe('sanitizeMetricKey', () => {
  it('keeps valid keys as they are', () => {
    for (const k of ['loss', 'train/loss', 'eval.acc@1'.replace('@', '_'), 'a-b c', 'lr_0'])
      expect(sanitizeMetricKey(k)).toBe(k);
  });

  it('replaces characters MLflow rejects and flattens path tricks', () => {
    expect(sanitizeMetricKey('eval/acc@1')).toBe('eval/acc_1');
    expect(sanitizeMetricKey('loss (smoothed)')).toBe('loss _smoothed_');
    expect(sanitizeMetricKey('/a//b/')).toBe('a/b');
    expect(sanitizeMetricKey('a/../b')).toBe('a/__/b');
    expect(sanitizeMetricKey('./x')).toBe('_/x');
    expect(sanitizeMetricKey('')).toBe('_');
    expect(sanitizeMetricKey('k'.repeat(300))).toHaveLength(250);
  });

  it('always yields a name MLflow accepts, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (raw) => {
        const k = sanitizeMetricKey(raw);
        expect(k).toMatch(NAME);
        expect(k.length).toBeGreaterThan(0);
        expect(k.length).toBeLessThanOrEqual(250);
        const parts = k.split('/');
        expect(parts.every((p) => p !== '' && p !== '.' && p !== '..')).toBe(true);
        expect(sanitizeMetricKey(k)).toBe(k);
      }),
    );
  });
});
