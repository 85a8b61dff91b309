import type { RuntimeEvent } from '@llmops/spec';
import { describe, expect, it } from 'vitest';
import {
  decideOutcome,
  emptySummary,
  foldEvent,
  foldInvalid,
  foldStderr,
  type ExitRecord,
} from './outcome.ts';

const exit = (exitCode: number | null, signal: string | null = null): ExitRecord => ({
  exitCode,
  signal,
  finishedAt: '2026-01-01T00:00:00Z',
  recordedBy: 'wrapper',
});

function summaryOf(events: RuntimeEvent[]) {
  const s = emptySummary();
  for (const e of events) foldEvent(s, e);
  return s;
}
const ckpt = (step: number): RuntimeEvent => ({ type: 'checkpoint', ts: 1, step, path: `c/${step}` });
const result = (status: 'succeeded' | 'failed', message: string | null = null): RuntimeEvent => ({
  type: 'result',
  ts: 1,
  status,
  step: 9,
  metrics: status === 'succeeded' ? { loss: 0.5 } : {},
  message,
});

describe('decideOutcome (RUNTIME_EXIT_CODES)', () => {
  it('0 with a succeeded result → succeeded with its metrics and step', () => {
    expect(decideOutcome(exit(0), summaryOf([ckpt(4), result('succeeded')]), false)).toEqual({
      kind: 'succeeded',
      metrics: { loss: 0.5 },
      lastStep: 9,
    });
  });

  it('0 without a result, or with a failed one → failed, retryable', () => {
    expect(decideOutcome(exit(0), summaryOf([]), false)).toMatchObject({
      kind: 'failed',
      retryable: true,
      message: 'exited 0 without a result event',
    });
    expect(decideOutcome(exit(0), summaryOf([result('failed')]), false)).toMatchObject({
      message: "exited 0 but its result event says 'failed'",
    });
  });

  it('10 → checkpointed with the last checkpoint, or null when there was none', () => {
    expect(decideOutcome(exit(10), summaryOf([ckpt(2), ckpt(4)]), false)).toEqual({
      kind: 'checkpointed',
      checkpoint: { step: 4, path: 'c/4' },
    });
    expect(decideOutcome(exit(10), summaryOf([]), false)).toEqual({ kind: 'checkpointed', checkpoint: null });
  });

  it('20 → retryable, 30 → permanent, with the runtime own message and the last checkpoint', () => {
    const s = summaryOf([ckpt(2), { type: 'log', ts: 1, level: 'error', message: 'CUDA OOM' }]);
    expect(decideOutcome(exit(20), s, false)).toEqual({
      kind: 'failed',
      retryable: true,
      message: 'CUDA OOM',
      exitCode: 20,
      signal: null,
      lastCheckpoint: { step: 2, path: 'c/2' },
    });
    const bad = summaryOf([result('failed', 'dataset row 3: missing prompt')]);
    expect(decideOutcome(exit(30), bad, false)).toMatchObject({
      retryable: false,
      message: 'dataset row 3: missing prompt',
    });
    expect(decideOutcome(exit(30), summaryOf([]), false)).toMatchObject({
      message: 'runtime reported a permanent failure (exit 30)',
    });
  });

  it('other codes and signals → retryable, naming the code or signal and the last stderr line', () => {
    const s = emptySummary();
    foldStderr(s, 'Traceback (most recent call last):');
    foldStderr(s, 'ValueError: boom');
    foldStderr(s, '');
    expect(decideOutcome(exit(1), s, false)).toMatchObject({
      retryable: true,
      exitCode: 1,
      message: 'runtime exited with unexpected code 1: ValueError: boom',
    });
    expect(decideOutcome(exit(null, 'SIGSEGV'), emptySummary(), false)).toMatchObject({
      retryable: true,
      signal: 'SIGSEGV',
      message: 'runtime was killed by SIGSEGV',
    });
    expect(decideOutcome(null, emptySummary(), false)).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/^runtime was killed: its process group disappeared/),
    });
  });

  it('mentions invalid event lines in a failure', () => {
    const s = emptySummary();
    foldInvalid(s, 'not valid JSON in {x');
    foldInvalid(s, 'step: expected number');
    expect(decideOutcome(exit(7), s, false)).toMatchObject({
      message:
        'runtime exited with unexpected code 7 (it also printed 2 invalid event lines, first: not valid JSON in {x)',
    });
  });

  it('a cancelled attempt is cancelled whatever its exit', () => {
    expect(decideOutcome(exit(10), summaryOf([ckpt(3)]), true)).toEqual({ kind: 'cancelled' });
    expect(decideOutcome(null, emptySummary(), true)).toEqual({ kind: 'cancelled' });
  });
});
