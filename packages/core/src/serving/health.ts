import type { RolloutAnalysis } from '@llmops/spec';
import type { RevisionStatus } from './backend.ts';
import type { RevisionStats } from './telemetry.ts';

export interface HealthVerdict {
  healthy: boolean;
  /** Why the revision is judged unhealthy, in words for the endpoint's event log; null when healthy. */
  reason: string | null;
  stats: RevisionStats;
}

/**
 * Judges a revision taking traffic: its backend status first (a failed revision or no ready replica is
 * unhealthy whatever the numbers), then the error rate once enough requests were seen, then p95 latency.
 */
export function judgeHealth(
  status: Pick<RevisionStatus, 'state' | 'replicas' | 'message'>,
  stats: RevisionStats,
  analysis: RolloutAnalysis,
): HealthVerdict {
  const verdict = (reason: string | null): HealthVerdict => ({ healthy: reason === null, reason, stats });
  if (status.state === 'failed')
    return verdict(`the revision failed on the serving backend: ${status.message ?? 'no message'}`);
  if (status.state === 'removed') return verdict('the revision is no longer deployed');
  if (status.replicas.length > 0 && !status.replicas.some((r) => r.state === 'ready'))
    return verdict(
      `no replica is ready (${status.message ?? status.replicas.map((r) => r.state).join(', ')})`,
    );
  if (stats.requests >= analysis.minRequests && stats.errorRate > analysis.maxErrorRate)
    return verdict(
      `error rate ${(stats.errorRate * 100).toFixed(1)}% over the last ${analysis.windowSeconds} s ` +
        `(${stats.errors} of ${stats.requests} requests) is above ${(analysis.maxErrorRate * 100).toFixed(1)}%`,
    );
  if (
    analysis.maxP95LatencyMs !== null &&
    stats.requests >= analysis.minRequests &&
    stats.p95Ms !== null &&
    stats.p95Ms > analysis.maxP95LatencyMs
  )
    return verdict(`p95 latency ${Math.round(stats.p95Ms)} ms is above ${analysis.maxP95LatencyMs} ms`);
  return verdict(null);
}
