import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ROLLOUT_MODES, type RolloutRequest } from '@llmops/client';
import { readBodyFile } from '../body-file.ts';
import type { Ctx } from '../context.ts';
import { UsageError } from '../errors.ts';
import { renderTable } from '../output.ts';
import { nonNegativeInt, positiveInt, type Run } from '../program.ts';
import { followEvents, ROLLOUT_OUTCOMES, rolloutEnd } from './endpoint-follow.ts';
import { EVENT_HEAD, eventLine, eventRow, renderStatus, revisionLine, stepsArg } from './endpoint-render.ts';
import { EXIT_INTERRUPTED } from './follow.ts';

function intervalArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 60)
    throw new InvalidArgumentError(`expected seconds from 0.1 to 60, got '${value}'`);
  return n;
}
const INTERVAL = ['--interval <seconds>', 'how often to look for new events', intervalArg, 1] as const;

/** Runs `fn` until it ends or Ctrl-C; followers print plain lines, so -o json/yaml does not apply. */
async function interruptible(ctx: Ctx, fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  if (ctx.settings.output !== 'table')
    throw new UsageError('this command prints plain lines as it goes; -o json/yaml is not available with it');
  const ctrl = new AbortController();
  const release = ctx.io.onInterrupt(() => ctrl.abort());
  try {
    return await fn(ctrl.signal);
  } finally {
    release();
  }
}

const lastSeq = async (ctx: Ctx, id: string) =>
  (await ctx.client.endpoints.events(id)).reduce((max, e) => Math.max(max, e.seq), 0);

interface RolloutOpts {
  modelId?: string;
  mode?: RolloutRequest['mode'];
  steps?: number[];
  stepSeconds?: number;
  holdSeconds?: number;
  readyTimeout?: number;
  replicas?: number;
  file?: string;
  wait?: boolean;
  interval: number;
}

/**
 * The rollout request: `-f` holds either a DeploymentSpec for the new revision (it has `model_ref`) or a
 * whole request body (modelId, deploymentSpec, mode, steps, analysis, …); options override its fields.
 */
export async function rolloutBody(o: RolloutOpts, cwd: string): Promise<RolloutRequest> {
  let body: Record<string, unknown> = {};
  if (o.file) {
    const file = await readBodyFile(o.file, cwd, 'a DeploymentSpec or a rollout request');
    body = 'model_ref' in file ? { deploymentSpec: file } : file;
  }
  const set = (key: keyof RolloutRequest, v: unknown) => {
    if (v !== undefined) body[key] = v;
  };
  set('modelId', o.modelId);
  set('mode', o.mode);
  set('steps', o.steps);
  set('stepSeconds', o.stepSeconds);
  set('holdPreviousSeconds', o.holdSeconds);
  set('readyTimeoutSeconds', o.readyTimeout);
  set('replicas', o.replicas);
  return body as RolloutRequest;
}

async function rollout(ctx: Ctx, id: string, o: RolloutOpts): Promise<number> {
  const body = await rolloutBody(o, ctx.io.cwd);
  if (!o.wait) {
    const rev = await ctx.client.endpoints.rollout(id, body);
    ctx.emit(rev, () => revisionLine(ctx.lastMessage(), rev));
    return 0;
  }
  return interruptible(ctx, async (signal) => {
    const after = await lastSeq(ctx, id);
    const rev = await ctx.client.endpoints.rollout(id, body);
    ctx.out(`${ctx.lastMessage() ?? `Revision ${rev.seq} is being rolled out`}: revision ${rev.id}\n`);
    ctx.note('Following its events (Ctrl-C stops following; the rollout goes on)\n');
    let outcome: string | undefined;
    const end = rolloutEnd(rev.id);
    const code = await followEvents(
      {
        events: (afterSeq) => ctx.client.endpoints.events(id, { afterSeq }),
        out: ctx.out,
        signal,
        intervalMs: o.interval * 1000,
      },
      after,
      (e) => {
        const c = end(e);
        if (c !== undefined) outcome = e.type;
        return c;
      },
    );
    if (code === EXIT_INTERRUPTED) return code;
    ctx.out(
      `Rollout of revision ${rev.seq} ${outcome ? (ROLLOUT_OUTCOMES[outcome]?.text ?? outcome) : 'ended: the endpoint was deleted'}\n`,
    );
    return code;
  });
}

/** Asks on the terminal; anything but y/yes is no. */
async function confirm(ctx: Ctx, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function remove(ctx: Ctx, id: string, o: { yes?: boolean }): Promise<number> {
  const e = await ctx.client.endpoints.get(id);
  if (!o.yes) {
    if (!ctx.io.stdin.isTTY)
      throw new UsageError(
        `deleting endpoint ${e.id} (${e.route}) stops every model server of it; add --yes to confirm`,
      );
    const sure = await confirm(
      ctx,
      `Delete endpoint ${e.id} (${e.route}, ${e.environment})? Every model server of it stops. [y/N] `,
    );
    if (!sure) {
      ctx.note('Not deleted\n');
      return 1;
    }
  }
  const gone = await ctx.client.endpoints.remove(id);
  ctx.emit(gone, () => `${ctx.lastMessage() ?? 'Endpoint is being deleted'}: ${gone.id} (${gone.status})\n`);
  return 0;
}

interface EventsOpts {
  follow?: boolean;
  after?: number;
  interval: number;
}

async function events(ctx: Ctx, id: string, o: EventsOpts): Promise<number> {
  if (!o.follow) {
    const list = await ctx.client.endpoints.events(id, { afterSeq: o.after });
    ctx.emit(list, () => renderTable(EVENT_HEAD, list.map(eventRow), '(no events)'));
    return 0;
  }
  return interruptible(ctx, async (signal) => {
    const first = await ctx.client.endpoints.events(id, { afterSeq: o.after });
    for (const e of first) ctx.out(eventLine(e));
    if (first.some((e) => e.type === 'endpoint.deleted')) return 0;
    const after = first.reduce((max, e) => Math.max(max, e.seq), o.after ?? 0);
    return followEvents(
      {
        events: (afterSeq) => ctx.client.endpoints.events(id, { afterSeq }),
        out: ctx.out,
        signal,
        intervalMs: o.interval * 1000,
      },
      after,
      (e) => (e.type === 'endpoint.deleted' ? 0 : undefined),
    );
  });
}

export function registerEndpointControls(endpoints: Command, run: Run): void {
  endpoints
    .command('status')
    .description(
      'Revisions of an endpoint with their traffic, replicas and health, the rollout under way and the last events',
    )
    .argument('<id>', 'endpoint id')
    .option('--window <seconds>', 'requests, errors and p95 over this many seconds (1-600)', positiveInt, 60)
    .option('--events <n>', 'how many of the last events to show (0: none)', nonNegativeInt, 5)
    .action(
      run<{ window: number; events: number }>(async (ctx, o, [id]) => {
        if (o.window > 600) throw new UsageError(`--window is at most 600 seconds, got ${o.window}`);
        const st = await ctx.client.endpoints.status(id!, { windowSeconds: o.window });
        ctx.emit(st, () => renderStatus(st, o.events));
      }),
    );
  endpoints
    .command('rollout')
    .description(
      'Roll a new model version (or DeploymentSpec) out: blue-green, canary, shadow or A/B, with automatic rollback',
    )
    .argument('<id>', 'endpoint id')
    .option(
      '--model-id <id>',
      "catalog model to serve (a version of the spec's model_ref); default: the latest",
    )
    .addOption(
      new Option('--mode <mode>', "how traffic moves; default: the spec's rollout.strategy").choices(
        ROLLOUT_MODES,
      ),
    )
    .option('--steps <list>', 'shares (%) on the new revision, e.g. 10,50 (100 follows)', stepsArg)
    .option('--step-seconds <n>', 'how long each canary step is watched', positiveInt)
    .option(
      '--hold-seconds <n>',
      'how long the previous revision stays ready after the switch',
      nonNegativeInt,
    )
    .option('--ready-timeout <seconds>', 'the new revision fails if not ready within this', positiveInt)
    .option('--replicas <n>', 'model server replicas of the new revision (1-16)', positiveInt)
    .option(
      '-f, --file <path>',
      'a DeploymentSpec for the new revision, or a whole rollout request (YAML or JSON); options win',
    )
    .option('--wait', 'follow the events until the rollout ends: exit 0 promoted, 1 rolled back or failed')
    .option(...INTERVAL)
    .action(run<RolloutOpts>((ctx, o, [id]) => rollout(ctx, id!, o)));
  endpoints
    .command('promote')
    .description('Give the revision being rolled out all live traffic now')
    .argument('<id>', 'endpoint id')
    .action(
      run(async (ctx, _o, [id]) => {
        const rev = await ctx.client.endpoints.promote(id!);
        ctx.emit(rev, () => revisionLine(ctx.lastMessage(), rev));
      }),
    );
  endpoints
    .command('rollback')
    .description('Put all traffic back on the previous revision and remove the one being rolled out')
    .argument('<id>', 'endpoint id')
    .option('--reason <text>', 'recorded in the rollback event')
    .action(
      run<{ reason?: string }>(async (ctx, o, [id]) => {
        const rev = await ctx.client.endpoints.rollback(id!, o.reason ? { reason: o.reason } : {});
        ctx.emit(rev, () => revisionLine(ctx.lastMessage(), rev));
      }),
    );
  endpoints
    .command('delete')
    .description('Stop every model server of an endpoint; the endpoint and its history are kept as DELETED')
    .argument('<id>', 'endpoint id')
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(run<{ yes?: boolean }>((ctx, o, [id]) => remove(ctx, id!, o)));
  endpoints
    .command('events')
    .description('Deploys, traffic shifts, health verdicts and rollbacks of an endpoint')
    .argument('<id>', 'endpoint id')
    .option('-f, --follow', 'keep printing new events until Ctrl-C or the endpoint is deleted')
    .option('--after <seq>', 'only events after this sequence number', nonNegativeInt)
    .option(...INTERVAL)
    .action(run<EventsOpts>((ctx, o, [id]) => events(ctx, id!, o)));
}
