import type { Command } from 'commander';
import type { Ctx } from '../context.ts';
import { renderTable } from '../output.ts';
import type { Run } from '../program.ts';

interface BackfillResult {
  dry_run: boolean;
  jobs: { job_id: string; status: string; rows: number }[];
  rows: number;
}

interface JobTracking {
  status: 'ok' | 'degraded' | 'disabled';
  error: string | null;
  runId: string | null;
  pendingRows: number;
}

interface BackfillOpts {
  dryRun?: boolean;
  allProjects?: boolean;
  wait?: boolean;
  timeout: string;
}

export function renderBackfill(r: BackfillResult): string {
  const head = r.dry_run
    ? `${r.jobs.length} job(s) without an MLflow run would be backfilled\n`
    : `${r.jobs.length} job(s) queued for delivery to MLflow (${r.rows} outbox row(s))\n`;
  if (r.jobs.length === 0) return head;
  return `${head}\n${renderTable(
    ['job', 'status', 'rows'],
    r.jobs.map((j) => [j.job_id, j.status, r.dry_run ? '-' : String(j.rows)]),
  )}`;
}

/** Follows the delivery of each backfilled job until it has a run and nothing pending, printing progress. */
async function follow(ctx: Ctx, jobIds: string[], timeoutMs: number): Promise<number> {
  const left = new Set(jobIds);
  const deadline = Date.now() + timeoutMs;
  let done = 0;
  while (left.size > 0 && Date.now() < deadline) {
    for (const id of [...left]) {
      const job = (await ctx.client.send<{ tracking: JobTracking | null }>('GET', `/training/jobs/${id}`))
        .data;
      const t = job.tracking;
      if (t && t.runId && t.pendingRows === 0) {
        left.delete(id);
        done += 1;
        ctx.note(`[${done}/${jobIds.length}] job ${id} → MLflow run ${t.runId}\n`);
      }
    }
    if (left.size > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  for (const id of left) ctx.note(`job ${id}: not delivered yet (see GET /training/jobs/${id})\n`);
  return left.size === 0 ? 0 : 1;
}

export function registerTracking(program: Command, run: Run): void {
  const tracking = program.command('tracking').description('Experiment tracking in MLflow');
  tracking
    .command('backfill')
    .description(
      'Create MLflow runs for ended jobs that have none (tracking was disabled or down); safe to run twice',
    )
    .option('--dry-run', 'list the jobs that would be backfilled; change nothing')
    .option('--all-projects', 'every project (organisation administrators), not just the current one')
    .option('--no-wait', 'return once the jobs are queued instead of following their delivery')
    .option('--timeout <seconds>', 'how long to follow the delivery', '300')
    .action(
      run<BackfillOpts>(async (ctx, o) => {
        const timeout = Number(o.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0)
          throw new Error(`--timeout must be a positive number of seconds, got '${o.timeout}'`);
        ctx.note(
          o.dryRun ? 'Looking for jobs without an MLflow run…\n' : 'Queuing jobs without an MLflow run…\n',
        );
        const r = (
          await ctx.client.send<BackfillResult>('POST', '/tracking/backfill', {
            json: { dry_run: o.dryRun ?? false, all_projects: o.allProjects ?? false },
          })
        ).data;
        ctx.emit(r, () => renderBackfill(r));
        if (r.dry_run || r.jobs.length === 0 || o.wait === false || o.allProjects) return 0;
        return follow(
          ctx,
          r.jobs.map((j) => j.job_id),
          timeout * 1000,
        );
      }),
    );
}
