import { InvalidArgumentError, type Command } from 'commander';
import type { TrainingJob } from '@llmops/client';
import type { Ctx } from '../context.ts';
import { UsageError } from '../errors.ts';
import { positiveInt, type Run } from '../program.ts';
import { followLogs, watchJob } from './follow.ts';

export function priorityArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 100)
    throw new InvalidArgumentError(`expected a whole number from 0 to 100, got '${value}'`);
  return n;
}

function tailArg(value: string): number {
  const n = positiveInt(value);
  if (n > 10_000) throw new InvalidArgumentError(`expected at most 10000 lines, got '${value}'`);
  return n;
}

function secondsArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600)
    throw new InvalidArgumentError(`expected seconds from 0.1 to 3600, got '${value}'`);
  return n;
}

/** "cancel requested" → "Cancel requested for job a3b0… (status: RUNNING)". */
function acknowledged(ctx: Ctx, job: TrainingJob, fallback: string): string {
  const message = ctx.lastMessage() ?? fallback;
  return `${message.charAt(0).toUpperCase()}${message.slice(1)} for job ${job.id} (status: ${job.status})\n`;
}

/** Follows until the job ends; Ctrl-C stops following (the job goes on) and the command exits 130. */
async function interruptible(ctx: Ctx, fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  if (ctx.settings.output !== 'table')
    throw new UsageError('this command prints plain text as it goes; -o json/yaml is not available with it');
  const ctrl = new AbortController();
  const release = ctx.io.onInterrupt(() => ctrl.abort());
  try {
    return await fn(ctrl.signal);
  } finally {
    release();
  }
}

interface LogsOpts {
  attempt?: number;
  tail?: number;
  follow?: boolean;
}

async function logs(ctx: Ctx, id: string, o: LogsOpts): Promise<number> {
  if (o.follow) {
    if (o.attempt !== undefined)
      throw new UsageError('--follow follows the latest attempt; leave out --attempt');
    return interruptible(ctx, (signal) =>
      followLogs({ jobs: ctx.client.jobs, out: ctx.out, note: ctx.note, signal }, id, o.tail),
    );
  }
  const got = await ctx.client.jobs.logs(id, { attempt: o.attempt, tail: o.tail });
  ctx.emit(got, () => got.lines.map((l) => `${l}\n`).join(''));
  if (ctx.settings.output === 'table' && got.attempt === null) ctx.note(`(job ${id} has no log yet)\n`);
  return 0;
}

export function registerJobControls(jobs: Command, run: Run): void {
  const control = (action: 'cancel' | 'pause' | 'resume', description: string) =>
    jobs
      .command(action)
      .description(description)
      .argument('<id>', 'job id')
      .action(
        run(async (ctx, _o, [id]) => {
          const job = await ctx.client.jobs[action](id!);
          ctx.emit(job, () => acknowledged(ctx, job, `${action} requested`));
        }),
      );
  control('cancel', 'Cancel a job; a running process is stopped and nothing is left running');
  control('pause', 'Pause a running job: it writes a checkpoint and stops, freeing its GPUs');
  control('resume', 'Resume a paused job from its checkpoint');

  jobs
    .command('retry')
    .description('Start a new attempt of a FAILED or CANCELLED job from a checkpoint')
    .argument('<id>', 'job id')
    .option('--from-checkpoint <path>', 'checkpoint to start from (default: the latest)')
    .action(
      run<{ fromCheckpoint?: string }>(async (ctx, o, [id]) => {
        const job = await ctx.client.jobs.retry(id!, { fromCheckpoint: o.fromCheckpoint });
        ctx.emit(job, () => acknowledged(ctx, job, 'retry requested'));
      }),
    );

  jobs
    .command('priority')
    .description('Change the priority of a queued or running job (0-100; reorders the queue)')
    .argument('<id>', 'job id')
    .argument('<priority>', 'new priority, 0 to 100', priorityArg)
    .action(
      run(async (ctx, _o, args) => {
        const priority = Number(args[1]);
        const job = await ctx.client.jobs.setPriority(args[0]!, priority);
        ctx.emit(job, () => acknowledged(ctx, job, `priority set to ${priority}`));
      }),
    );

  jobs
    .command('logs')
    .description("Print the tail of a job's log; with -f, follow it until the job ends")
    .argument('<id>', 'job id')
    .option('--attempt <n>', 'attempt whose log to print (default: the latest)', positiveInt)
    .option('--tail <n>', 'how many of the last lines (1-10000; default 500)', tailArg)
    .option('-f, --follow', 'then print new lines as they come; exit 0 if the job succeeds, 1 if not')
    .action(run<LogsOpts>((ctx, o, [id]) => logs(ctx, id!, o)));

  jobs
    .command('watch')
    .description('A live status line (state, queue position, step, loss) until the job ends')
    .argument('<id>', 'job id')
    .option('--interval <seconds>', 'refresh every this many seconds (default 1)', secondsArg)
    .action(
      run<{ interval?: number }>((ctx, o, [id]) =>
        interruptible(ctx, (signal) =>
          watchJob(
            {
              jobs: ctx.client.jobs,
              stdout: ctx.io.stdout,
              signal,
              intervalMs: (o.interval ?? 1) * 1000,
            },
            id!,
          ),
        ),
      ),
    );
}
