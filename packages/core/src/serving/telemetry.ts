/**
 * Request outcomes per revision, kept in memory by the process that proxies inference, in one-second
 * buckets over the last `keepSeconds`: the rollout workflow reads error rate and latency from here to decide
 * whether a new revision is healthy. Bounded: a revision costs `keepSeconds` small buckets at most.
 */
export interface RevisionStats {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

interface Bucket {
  second: number;
  requests: number;
  errors: number;
  latencies: number[];
}

/** Latencies kept per bucket; beyond it, samples replace older ones at random (reservoir). */
const SAMPLES_PER_BUCKET = 256;

export interface ServingTelemetry {
  record(revisionId: string, outcome: { ok: boolean; latencyMs: number }): void;
  stats(revisionId: string, windowSeconds: number): RevisionStats;
  forget(revisionId: string): void;
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function createServingTelemetry(
  opts: { keepSeconds?: number; now?: () => number } = {},
): ServingTelemetry {
  const keep = opts.keepSeconds ?? 600;
  const now = opts.now ?? Date.now;
  const byRevision = new Map<string, Bucket[]>();

  return {
    record(revisionId, { ok, latencyMs }) {
      const second = Math.floor(now() / 1000);
      let buckets = byRevision.get(revisionId);
      if (!buckets) byRevision.set(revisionId, (buckets = []));
      let b = buckets.at(-1);
      if (!b || b.second !== second) {
        b = { second, requests: 0, errors: 0, latencies: [] };
        buckets.push(b);
        while (buckets.length && buckets[0]!.second <= second - keep) buckets.shift();
      }
      b.requests++;
      if (!ok) b.errors++;
      if (b.latencies.length < SAMPLES_PER_BUCKET) b.latencies.push(latencyMs);
      else {
        const i = Math.floor(Math.random() * b.requests);
        if (i < SAMPLES_PER_BUCKET) b.latencies[i] = latencyMs;
      }
    },
    stats(revisionId, windowSeconds) {
      const from = Math.floor(now() / 1000) - windowSeconds;
      let requests = 0;
      let errors = 0;
      const latencies: number[] = [];
      for (const b of byRevision.get(revisionId) ?? []) {
        if (b.second <= from) continue;
        requests += b.requests;
        errors += b.errors;
        latencies.push(...b.latencies);
      }
      latencies.sort((a, b) => a - b);
      return {
        requests,
        errors,
        errorRate: requests ? errors / requests : 0,
        p50Ms: quantile(latencies, 0.5),
        p95Ms: quantile(latencies, 0.95),
      };
    },
    forget(revisionId) {
      byRevision.delete(revisionId);
    },
  };
}
