import type { Series } from '../../components/chart.ts';
import type { ExperimentRun, RunComparison } from '../../platform/extra-api.ts';

/** One chart per metric key, one line per run, from a comparison's metric histories. */
export function metricSeries(
  c: RunComparison | null | undefined,
  label: (run: ExperimentRun) => string,
): { key: string; series: Series[] }[] {
  if (!c) return [];
  return c.metrics.map((m) => ({
    key: m.key,
    series: c.runs.map((run) => ({
      name: label(run),
      points: m.steps.flatMap((s) => {
        const v = s.values[run.runId];
        return typeof v === 'number' ? [[s.step, v] as [number, number]] : [];
      }),
    })),
  }));
}
