import type { Command } from 'commander';
import type { Ctx } from '../context.ts';
import { renderTable, time } from '../output.ts';
import { positiveInt, type Run } from '../program.ts';

type MetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

interface ExperimentRun {
  runId: string;
  runName: string | null;
  status: string;
  startTime: string | null;
  jobId: string | null;
  datasets: { name: string; digest: string }[];
  params: Record<string, string>;
  metrics: Record<string, MetricValue>;
  runUrl: string;
}

interface RunComparison {
  runs: ExperimentRun[];
  params: { key: string; values: Record<string, string | null>; differs: boolean }[];
  metrics: { key: string; steps: { step: number; values: Record<string, MetricValue | null> }[] }[];
}

interface SearchOpts {
  model?: string;
  dataset?: string;
  from?: string;
  to?: string;
  limit?: number;
  pageToken?: string;
}

/** Short run ids for column headings: MLflow's are 32 hex characters. */
const short = (id: string) => id.slice(0, 8);

const fmt = (v: MetricValue | null | undefined) =>
  v === null || v === undefined ? null : typeof v === 'number' ? Number(v.toPrecision(6)) : v;

async function search(ctx: Ctx, o: SearchOpts): Promise<void> {
  const { data: page } = await ctx.client.send<{
    items: ExperimentRun[];
    nextPageToken: string | null;
    experimentId: string | null;
  }>('GET', '/experiments/runs', {
    query: {
      model: o.model,
      dataset: o.dataset,
      from: o.from,
      to: o.to,
      limit: o.limit,
      pageToken: o.pageToken,
    },
  });
  ctx.emit(
    page,
    () =>
      renderTable(
        ['run', 'name', 'status', 'started', 'job', 'datasets', 'link'],
        page.items.map((r) => [
          r.runId,
          r.runName,
          r.status,
          time(r.startTime),
          r.jobId,
          r.datasets.map((d) => `${d.name}@${d.digest.slice(0, 8)}`).join(','),
          r.runUrl,
        ]),
        '(no runs)',
      ) + (page.nextPageToken ? `(more: add --page-token ${page.nextPageToken})\n` : ''),
  );
}

/** The runs, their parameters side by side (differing ones flagged), then each metric as a step table. */
export function renderComparison(c: RunComparison): string {
  const ids = c.runs.map((r) => r.runId);
  const head = ids.map(short);
  let out = 'Runs:\n';
  out += renderTable(
    ['run', 'name', 'status', 'started', 'link'],
    c.runs.map((r) => [r.runId, r.runName, r.status, time(r.startTime), r.runUrl]),
  );
  out += '\nParameters:\n';
  out += renderTable(
    ['differs', 'param', ...head],
    c.params.map((p) => [p.differs, p.key, ...ids.map((id) => p.values[id])]),
    '(no parameters)',
  );
  for (const m of c.metrics) {
    out += `\nMetric ${m.key}:\n`;
    out += renderTable(
      ['step', ...head],
      m.steps.map((s) => [s.step, ...ids.map((id) => fmt(s.values[id]))]),
    );
  }
  return out;
}

export function registerExperiments(program: Command, run: Run): void {
  const experiments = program
    .command('experiments')
    .description("Search and compare the project's MLflow runs");

  experiments
    .command('search')
    .description('Runs of the project, newest first, by model, dataset and start date')
    .option('--model <name>', 'registered model name (output.artifact_name) or base model')
    .option('--dataset <name-or-digest>', 'dataset name or digest')
    .option('--from <date>', 'started at or after (ISO 8601 date or date-time)')
    .option('--to <date>', 'started before (a date alone includes that day)')
    .option('--limit <n>', 'at most this many runs (1-200)', positiveInt)
    .option('--page-token <token>', 'the next page, as printed under the previous one')
    .action(run<SearchOpts>((ctx, o) => search(ctx, o)));

  experiments
    .command('compare')
    .description('Compare up to 10 runs: parameters side by side, metric histories by step')
    .argument('<run...>', 'MLflow run ids')
    .action(
      run(async (ctx, _o, runIds) => {
        const { data } = await ctx.client.send<RunComparison>('POST', '/experiments/compare', {
          json: { run_ids: runIds },
        });
        ctx.emit(data, () => renderComparison(data));
      }),
    );
}
