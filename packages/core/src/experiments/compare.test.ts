import { describe, expect, it } from 'vitest';
import { alignByStep, diffParams, wireMetricValue } from './compare.ts';

describe('diffParams', () => {
  it('lists every key once, sorted, with each run value and null where a run did not log it', () => {
    const rows = diffParams([
      { runId: 'a', params: { lr: '0.001', epochs: '3' } },
      { runId: 'b', params: { lr: '0.002', epochs: '3', seed: '7' } },
    ]);
    expect(rows).toEqual([
      { key: 'epochs', values: { a: '3', b: '3' }, differs: false },
      { key: 'lr', values: { a: '0.001', b: '0.002' }, differs: true },
      { key: 'seed', values: { a: null, b: '7' }, differs: true },
    ]);
  });

  it('flags nothing for a single run and keeps an empty string apart from a missing value', () => {
    expect(diffParams([{ runId: 'a', params: { x: '1' } }])).toEqual([
      { key: 'x', values: { a: '1' }, differs: false },
    ]);
    const [row] = diffParams([
      { runId: 'a', params: { note: '' } },
      { runId: 'b', params: {} },
    ]);
    expect(row).toEqual({ key: 'note', values: { a: '', b: null }, differs: true });
  });

  it('does not mistake inherited object keys for logged parameters', () => {
    const [row] = diffParams([
      { runId: 'a', params: { constructor: 'x' } },
      { runId: 'b', params: {} },
    ]);
    expect(row!.values).toEqual({ a: 'x', b: null });
  });
});

describe('alignByStep', () => {
  it('builds one row per step of any run, ascending, with null where a run has no point', () => {
    const aligned = alignByStep('loss', [
      {
        runId: 'a',
        points: [
          { step: 0, value: 2, timestamp: 1 },
          { step: 10, value: 1.5, timestamp: 2 },
        ],
      },
      {
        runId: 'b',
        points: [
          { step: 5, value: 1.9, timestamp: 1 },
          { step: 0, value: 2.1, timestamp: 0 },
        ],
      },
    ]);
    expect(aligned).toEqual({
      key: 'loss',
      steps: [
        { step: 0, values: { a: 2, b: 2.1 } },
        { step: 5, values: { a: null, b: 1.9 } },
        { step: 10, values: { a: 1.5, b: null } },
      ],
    });
  });

  it('keeps the latest point when a run logged a step twice (a resumed attempt)', () => {
    const aligned = alignByStep('loss', [
      {
        runId: 'a',
        points: [
          { step: 3, value: 9, timestamp: 200 },
          { step: 3, value: 1, timestamp: 100 },
          { step: 4, value: 5, timestamp: 300 },
          { step: 4, value: 6, timestamp: 300 },
        ],
      },
    ]);
    expect(aligned.steps).toEqual([
      { step: 3, values: { a: 9 } },
      { step: 4, values: { a: 6 } },
    ]);
  });

  it('passes non-finite values as the strings MLflow uses and has no rows without points', () => {
    const aligned = alignByStep('grad_norm', [
      { runId: 'a', points: [{ step: 1, value: NaN, timestamp: 1 }] },
      { runId: 'b', points: [{ step: 1, value: -Infinity, timestamp: 1 }] },
      { runId: 'c', points: [] },
    ]);
    expect(aligned.steps).toEqual([{ step: 1, values: { a: 'NaN', b: '-Infinity', c: null } }]);
    expect(alignByStep('x', []).steps).toEqual([]);
    expect(wireMetricValue(Infinity)).toBe('Infinity');
    expect(wireMetricValue(0.5)).toBe(0.5);
  });
});
