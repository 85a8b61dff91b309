import { describe, expect, it } from 'vitest';
import { createServingTelemetry } from './telemetry.ts';
import { judgeHealth } from './health.ts';
import { rolloutAnalysisSchema } from '@llmops/spec';

describe('serving telemetry', () => {
  it('counts requests and errors over a sliding window of seconds', () => {
    let now = 1_000_000;
    const t = createServingTelemetry({ now: () => now, keepSeconds: 60 });
    for (let i = 0; i < 10; i++) t.record('r', { ok: i % 5 !== 0, latencyMs: 10 + i });
    expect(t.stats('r', 30)).toMatchObject({ requests: 10, errors: 2, errorRate: 0.2 });
    now += 31_000;
    t.record('r', { ok: true, latencyMs: 5 });
    expect(t.stats('r', 30)).toMatchObject({ requests: 1, errors: 0, p50Ms: 5 });
    expect(t.stats('other', 30)).toMatchObject({ requests: 0, errorRate: 0, p95Ms: null });
  });

  it('computes latency quantiles and forgets a revision', () => {
    const t = createServingTelemetry();
    for (let i = 1; i <= 100; i++) t.record('r', { ok: true, latencyMs: i });
    const s = t.stats('r', 10);
    expect(s.p50Ms).toBe(51);
    expect(s.p95Ms).toBe(96);
    t.forget('r');
    expect(t.stats('r', 10).requests).toBe(0);
  });

  it('keeps memory bounded: old buckets are dropped', () => {
    let now = 0;
    const t = createServingTelemetry({ now: () => now, keepSeconds: 5 });
    for (let s = 0; s < 100; s++) {
      now = s * 1000;
      t.record('r', { ok: true, latencyMs: 1 });
    }
    expect(t.stats('r', 1000).requests).toBe(5);
  });
});

describe('judgeHealth', () => {
  const analysis = rolloutAnalysisSchema.parse({ maxErrorRate: 0.2, minRequests: 10, maxP95LatencyMs: 500 });
  const ready = {
    state: 'ready' as const,
    message: null,
    replicas: [{ id: 'r0', state: 'ready' as const, url: 'x', message: null, restarts: 0 }],
  };
  const stats = (requests: number, errors: number, p95Ms: number | null = 10) => ({
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    p50Ms: p95Ms,
    p95Ms,
  });

  it('is healthy below the thresholds and before enough requests were seen', () => {
    expect(judgeHealth(ready, stats(100, 10), analysis).healthy).toBe(true);
    expect(judgeHealth(ready, stats(5, 5), analysis).healthy).toBe(true);
  });

  it('names the error rate that crossed the threshold', () => {
    const v = judgeHealth(ready, stats(40, 20), analysis);
    expect(v.healthy).toBe(false);
    expect(v.reason).toMatch(/error rate 50\.0%.*20 of 40.*above 20\.0%/);
  });

  it('judges p95 latency when a limit is set', () => {
    expect(judgeHealth(ready, stats(50, 0, 900), analysis).reason).toMatch(
      /p95 latency 900 ms is above 500 ms/,
    );
  });

  it('is unhealthy when the backend says the revision failed or no replica is ready', () => {
    expect(judgeHealth({ ...ready, state: 'failed', message: 'boom' }, stats(0, 0), analysis).reason).toMatch(
      /boom/,
    );
    expect(
      judgeHealth(
        {
          state: 'deploying',
          message: 'restarting',
          replicas: [{ ...ready.replicas[0]!, state: 'starting' }],
        },
        stats(0, 0),
        analysis,
      ).healthy,
    ).toBe(false);
  });
});
