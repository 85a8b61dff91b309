import { Option, type Command } from 'commander';
import {
  ENVIRONMENTS,
  JOB_STATES,
  SUBMISSION_KINDS,
  type Environment,
  type JobState,
  type SubmissionKind,
  type SubmitJob,
  type TrainingJob,
} from '@llmops/client';
import { readBodyFile } from '../body-file.ts';
import type { Ctx } from '../context.ts';
import { money, renderFields, renderTable, renderViolations, time } from '../output.ts';
import { withPaging, type Run } from '../program.ts';
import { queueText } from './follow.ts';
import { registerJobControls } from './job-control.ts';
import { renderVerdict, verdictOf } from './verdict.ts';

export function jobFields(j: TrainingJob): [string, unknown][] {
  return [
    ['id', j.id],
    ['status', j.status],
    ...(j.queue ? [['queue', queueText(j.queue)] as [string, unknown]] : []),
    ['kind', j.jobType],
    ['job type', j.trainJobType],
    ['compliant', j.compliance.compliant],
    ['model', j.modelId],
    ['dataset', j.datasetId],
    ['priority', j.priority],
    ['image', j.image ? `${j.image} (${j.imageVariant})` : null],
    ['image reason', j.imageReason],
    ['memory/GPU', j.estimates.gpuMemoryPerGpuGib === null ? null : `${j.estimates.gpuMemoryPerGpuGib} GiB`],
    ['GPU hours', j.estimates.gpuHours],
    ['est. cost', money(j.estimates.costUsd)],
    ['created by', j.createdBy],
    ['created', time(j.createdAt)],
    ['updated', time(j.updatedAt)],
  ];
}

function renderJob(j: TrainingJob): string {
  const v = j.compliance.violations;
  return renderFields(jobFields(j)) + (v.length ? `\nViolations:\n${renderViolations(v)}` : '');
}

interface SubmitOpts {
  file: string;
  dryRun?: boolean;
  idempotencyKey?: string;
}

async function submit(ctx: Ctx, o: SubmitOpts): Promise<number> {
  const body = (await readBodyFile(o.file, ctx.io.cwd, 'the body of POST /training/jobs')) as SubmitJob;
  if (o.dryRun) {
    const verdict = await verdictOf(() => ctx.client.jobs.validate(body));
    ctx.emit(verdict, () => renderVerdict(verdict));
    return verdict.valid ? 0 : 1;
  }
  const job = await ctx.client.jobs.submit(body, { idempotencyKey: o.idempotencyKey });
  ctx.emit(job, () => `${ctx.lastMessage() ?? 'Job submitted'}: ${job.id}\n${renderJob(job)}`);
  return 0;
}

const jobRow = (j: TrainingJob) => [
  j.id,
  j.jobType,
  j.trainJobType,
  j.status,
  j.compliance.compliant,
  money(j.estimates.costUsd),
  time(j.createdAt),
];

function registerSubmit(program: Command, run: Run): void {
  program
    .command('submit')
    .description('Submit a training job from a YAML or JSON file (the body of POST /training/jobs)')
    .requiredOption('-f, --file <path>', 'job file, YAML or JSON')
    .option('--dry-run', 'check every rule and show the image and estimates; nothing is stored')
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the original job')
    .action(run<SubmitOpts>((ctx, o) => submit(ctx, o)));
}

function registerJobs(program: Command, run: Run): void {
  const jobs = program.command('jobs').description('Inspect and control training jobs, follow their logs');
  withPaging(
    jobs
      .command('list')
      .description('List training jobs, newest first')
      .addOption(new Option('--status <status>', 'only jobs in this state').choices(JOB_STATES))
      .addOption(new Option('--type <kind>', 'only this submission kind').choices(SUBMISSION_KINDS)),
  ).action(
    run<{ status?: JobState; type?: SubmissionKind; limit?: number; offset?: number }>(async (ctx, o) => {
      const page = await ctx.client.jobs.list({
        status: o.status,
        jobType: o.type,
        limit: o.limit,
        offset: o.offset,
      });
      ctx.emit(page, () => {
        const table = renderTable(
          ['id', 'kind', 'type', 'status', 'compliant', 'est. cost', 'created'],
          page.items.map(jobRow),
          '(no jobs)',
        );
        return page.total > page.items.length + page.offset
          ? `${table}(${page.items.length} of ${page.total}; use --limit/--offset for more)\n`
          : table;
      });
    }),
  );
  jobs
    .command('get')
    .description('Show one training job')
    .argument('<id>', 'job id')
    .action(
      run(async (ctx, _o, [id]) => {
        const job = await ctx.client.jobs.get(id!);
        ctx.emit(job, () => renderJob(job));
      }),
    );
  jobs
    .command('events')
    .description('State transitions and other events of a job')
    .argument('<id>', 'job id')
    .action(
      run(async (ctx, _o, [id]) => {
        const events = await ctx.client.jobs.events(id!);
        ctx.emit(events, () =>
          renderTable(
            ['at', 'type', 'from', 'to', 'actor', 'detail'],
            events.map((e) => [
              time(e.createdAt),
              e.type,
              e.fromStatus,
              e.toStatus,
              e.actor,
              Object.keys(e.detail).length ? e.detail : null,
            ]),
            '(no events)',
          ),
        );
      }),
    );
  registerJobControls(jobs, run);
}

function registerGpuTypes(program: Command, run: Run): void {
  program
    .command('gpu-types')
    .description('GPU types jobs may request, with memory and price')
    .addOption(new Option('--env <env>', 'environment (default: the platform’s)').choices(ENVIRONMENTS))
    .action(
      run<{ env?: Environment }>(async (ctx, o) => {
        const types = await ctx.client.gpuTypes(o.env);
        ctx.emit(types, () =>
          renderTable(
            ['name', 'memory gib', 'price/gpu-hour', 'max per node'],
            types.map((g) => [g.name, g.memory_gib, money(g.price_per_gpu_hour), g.max_per_node]),
            '(no GPU types configured)',
          ),
        );
      }),
    );
}

export function registerTraining(program: Command, run: Run): void {
  registerSubmit(program, run);
  registerJobs(program, run);
  registerGpuTypes(program, run);
}
