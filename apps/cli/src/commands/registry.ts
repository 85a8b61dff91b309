import { Option, type Command } from 'commander';
import type { Ctx } from '../context.ts';
import { renderFields, renderTable, time } from '../output.ts';
import { positiveInt, type Run } from '../program.ts';

const STAGES = ['dev', 'staging', 'prod'] as const;

interface RegisteredModel {
  name: string;
  description: string | null;
  updatedAt: string | null;
  aliases: Record<string, string>;
  latestVersion: string | null;
  mlflowUrl: string;
}

interface ModelVersion {
  name: string;
  version: string;
  status: string | null;
  source: string;
  runId: string | null;
  createdAt: string | null;
  aliases: string[];
  lineage: {
    jobId: string | null;
    datasetDigest: string | null;
    specHash: string | null;
    runtimeVersion: string | null;
  };
  mlflowUrl: string;
}

interface AliasMove {
  id: string | null;
  model: string;
  stage: string;
  kind: string;
  fromVersion: string | null;
  toVersion: string;
  moved: boolean;
  actor: string;
  at: string;
}

interface TokenPage<T> {
  items: T[];
  nextPageToken: string | null;
}

const seg = encodeURIComponent;

async function get<T>(ctx: Ctx, path: string, query?: Record<string, string | number | undefined>) {
  return (await ctx.client.send<T>('GET', path, { query: query ?? {} })).data;
}

async function post<T>(ctx: Ctx, path: string, json: unknown) {
  const r = await ctx.client.send<T>('POST', path, { json });
  return { data: r.data, message: r.message };
}

/** A hint under a table when MLflow has more to show. */
const more = (page: TokenPage<unknown>) =>
  page.nextPageToken ? `(more: add --page-token ${page.nextPageToken})\n` : '';

const aliasList = (aliases: Record<string, string>) =>
  Object.entries(aliases)
    .map(([a, v]) => `${a}=v${v}`)
    .join(' ');

function renderVersion(v: ModelVersion): string {
  return renderFields([
    ['model', v.name],
    ['version', v.version],
    ['status', v.status],
    ['aliases', v.aliases.join(', ')],
    ['job', v.lineage.jobId],
    ['dataset digest', v.lineage.datasetDigest],
    ['spec hash', v.lineage.specHash],
    ['runtime', v.lineage.runtimeVersion],
    ['run', v.runId],
    ['source', v.source],
    ['created', time(v.createdAt)],
    ['mlflow', v.mlflowUrl],
  ]);
}

const renderMove = (m: AliasMove, message: string) =>
  `${message}\n${renderFields([
    ['model', m.model],
    ['stage', m.stage],
    ['from', m.fromVersion],
    ['to', m.toVersion],
    ['by', m.actor],
    ['at', time(m.at)],
  ])}`;

const stageOption = (flag: string, what: string) =>
  new Option(`${flag} <stage>`, what).choices(STAGES).makeOptionMandatory();

export function registerRegistry(program: Command, run: Run): void {
  const registry = program
    .command('registry')
    .description('The model registry (MLflow): versions, stages dev/staging/prod, promotion and rollback');

  registry
    .command('models')
    .description("List the project's registered models")
    .option('--search <text>', 'part of the model name')
    .option('--limit <n>', 'at most this many models (1-200)', positiveInt)
    .option('--page-token <token>', 'the next page, as printed under the previous one')
    .action(
      run<{ search?: string; limit?: number; pageToken?: string }>(async (ctx, o) => {
        const page = await get<TokenPage<RegisteredModel>>(ctx, '/registry/models', {
          search: o.search,
          limit: o.limit,
          pageToken: o.pageToken,
        });
        ctx.emit(
          page,
          () =>
            renderTable(
              ['name', 'latest', 'stages', 'updated'],
              page.items.map((m) => [m.name, m.latestVersion, aliasList(m.aliases), time(m.updatedAt)]),
              '(no registered models)',
            ) + more(page),
        );
      }),
    );

  registry
    .command('versions')
    .description('List the versions of a registered model, newest first, with stages and lineage')
    .argument('<name>', 'registered model name (the training output artifact_name)')
    .option('--limit <n>', 'at most this many versions (1-200)', positiveInt)
    .option('--page-token <token>', 'the next page, as printed under the previous one')
    .action(
      run<{ limit?: number; pageToken?: string }>(async (ctx, o, [name]) => {
        const page = await get<TokenPage<ModelVersion>>(ctx, `/registry/models/${seg(name!)}/versions`, {
          limit: o.limit,
          pageToken: o.pageToken,
        });
        ctx.emit(
          page,
          () =>
            renderTable(
              ['version', 'status', 'stages', 'job', 'dataset digest', 'created'],
              page.items.map((v) => [
                v.version,
                v.status,
                v.aliases.join(','),
                v.lineage.jobId,
                v.lineage.datasetDigest,
                time(v.createdAt),
              ]),
              '(no versions)',
            ) + more(page),
        );
      }),
    );

  registry
    .command('alias')
    .description('Show the version an alias (a stage: dev, staging, prod) points at')
    .argument('<name>', 'registered model name')
    .argument('<alias>', 'alias, e.g. staging')
    .action(
      run(async (ctx, _o, [name, alias]) => {
        const v = await get<ModelVersion>(ctx, `/registry/models/${seg(name!)}/aliases/${seg(alias!)}`);
        ctx.emit(v, () => renderVersion(v));
      }),
    );

  registry
    .command('promote')
    .description("Move a stage's alias to a version (editors: dev, staging; admins: prod)")
    .argument('<name>', 'registered model name')
    .argument('<version>', 'model version number')
    .addOption(stageOption('--to', 'stage to promote to'))
    .action(
      run<{ to: string }>(async (ctx, o, [name, version]) => {
        const r = await post<AliasMove>(ctx, `/registry/models/${seg(name!)}/promote`, {
          version,
          stage: o.to,
        });
        ctx.emit(r.data, () => renderMove(r.data, r.message));
      }),
    );

  registry
    .command('rollback')
    .description("Move a stage's alias back to the version it pointed at before the last promotion")
    .argument('<name>', 'registered model name')
    .addOption(stageOption('--stage', 'stage to roll back'))
    .action(
      run<{ stage: string }>(async (ctx, o, [name]) => {
        const r = await post<AliasMove>(ctx, `/registry/models/${seg(name!)}/rollback`, { stage: o.stage });
        ctx.emit(r.data, () => renderMove(r.data, r.message));
      }),
    );

  registry
    .command('history')
    .description('The recorded promotions and rollbacks of a model, newest first')
    .argument('<name>', 'registered model name')
    .addOption(new Option('--stage <stage>', 'only this stage').choices(STAGES))
    .action(
      run<{ stage?: string }>(async (ctx, o, [name]) => {
        const moves = await get<AliasMove[]>(ctx, `/registry/models/${seg(name!)}/history`, {
          stage: o.stage,
        });
        ctx.emit(moves, () =>
          renderTable(
            ['at', 'stage', 'kind', 'from', 'to', 'by'],
            moves.map((m) => [time(m.at), m.stage, m.kind, m.fromVersion, m.toVersion, m.actor]),
            '(no promotions yet)',
          ),
        );
      }),
    );
}
