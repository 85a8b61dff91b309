/** Pure parts of run comparison: parameter differences and metric histories aligned by step. */

export type WireMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

/** JSON has no NaN or Infinity; they travel as MLflow writes them, as strings. */
export function wireMetricValue(v: number): WireMetricValue {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export interface ParamRow {
  key: string;
  /** run id → value; null when the run did not log the parameter. */
  values: Record<string, string | null>;
  differs: boolean;
}

/** Every parameter key of any run, sorted, with each run's value and whether the runs disagree. */
export function diffParams(runs: readonly { runId: string; params: Record<string, string> }[]): ParamRow[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  return keys.map((key) => {
    const values = Object.fromEntries(
      runs.map((r) => [r.runId, Object.hasOwn(r.params, key) ? r.params[key]! : null]),
    );
    return { key, values, differs: new Set(Object.values(values)).size > 1 };
  });
}

export interface MetricPoint {
  step: number;
  value: number;
  timestamp: number;
}

export interface AlignedMetric {
  key: string;
  steps: { step: number; values: Record<string, WireMetricValue | null> }[];
}

/**
 * One metric's histories as a table: every step any run logged, ascending, and each run's value at it
 * (null when the run has no point there). A run that logged a step twice (a resumed attempt) counts
 * with its latest point, by timestamp and then by order.
 */
export function alignByStep(
  key: string,
  histories: readonly { runId: string; points: readonly MetricPoint[] }[],
): AlignedMetric {
  const perRun = histories.map(({ runId, points }) => {
    const at = new Map<number, MetricPoint>();
    for (const p of points) {
      const seen = at.get(p.step);
      if (!seen || p.timestamp >= seen.timestamp) at.set(p.step, p);
    }
    return { runId, at };
  });
  const steps = [...new Set(perRun.flatMap((r) => [...r.at.keys()]))].sort((a, b) => a - b);
  return {
    key,
    steps: steps.map((step) => ({
      step,
      values: Object.fromEntries(
        perRun.map((r) => {
          const p = r.at.get(step);
          return [r.runId, p ? wireMetricValue(p.value) : null];
        }),
      ),
    })),
  };
}
