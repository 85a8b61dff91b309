import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DATASET_TYPES, type Dataset, type DatasetType, type Model } from '@llmops/client';
import { UsageError } from '../errors.ts';
import { renderFields, renderTable, time } from '../output.ts';
import { positiveInt, withPaging, type Run } from '../program.ts';

/** 8000000000 → 8B: parameter counts are read by magnitude. */
export function humanCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  for (const [unit, size] of [
    ['T', 1e12],
    ['B', 1e9],
    ['M', 1e6],
    ['K', 1e3],
  ] as const) {
    if (n >= size) return `${Number((n / size).toFixed(1))}${unit}`;
  }
  return String(n);
}

export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Where a model trained here came from; nothing for a model registered by hand. */
function lineageFields(lineage: Record<string, unknown> | null): [string, unknown][] {
  if (!lineage) return [];
  const parent = lineage.parentModel as { name?: unknown; version?: unknown } | null | undefined;
  return [
    ['trained by job', lineage.jobId],
    [
      'parent model',
      parent ? `${String(parent.name)} v${String(parent.version)}` : '(none: trained from scratch)',
    ],
    ['dataset sha256', lineage.datasetSha256],
    ['spec hash', lineage.specHash],
    ['runtime', lineage.runtimeVersion],
  ];
}

export const modelFields = (m: Model): [string, unknown][] => [
  ['id', m.id],
  ['name', m.name],
  ['version', m.version],
  ['family', m.model_family],
  ['max positions', m.max_position_embeddings],
  ['parameters', `${humanCount(m.parameter_count)} (${m.parameter_count})`],
  ['storage', m.storage_uri],
  ['description', m.description],
  ...lineageFields(m.lineage),
  ['created by', m.created_by],
  ['created', time(m.created_at)],
];

function datasetText(d: Dataset): string {
  const fields: [string, unknown][] = [
    ['id', d.id],
    ['name', d.name],
    ['version', d.version],
    ['type', d.type],
    ['storage', d.storage_uri],
    ['format', d.format],
    ['rows', d.row_count],
    ['size', humanBytes(d.size_bytes)],
    ['sha256', d.sha256],
    ['created by', d.created_by],
    ['created', time(d.created_at)],
  ];
  const v = d.validation;
  const checked = v ? `\nValidation: ${v.valid} of ${v.rows} row(s) valid\n` : '';
  const errors = v?.errors.length
    ? renderTable(
        ['row', 'error'],
        v.errors.map((e) => [e.row, e.message]),
      )
    : '';
  return renderFields(fields) + checked + errors;
}

interface CreateModelOpts {
  family: string;
  maxPositionEmbeddings: number;
  parameterCount: number;
  storageUri?: string;
  description?: string;
}

interface CreateDatasetOpts {
  type: DatasetType;
  storageUri?: string;
  file?: string;
  description?: string;
}

function registerModels(program: Command, run: Run): void {
  const models = program.command('models').description('Base and trained models in the catalog');
  withPaging(
    models
      .command('list')
      .description('List catalog models')
      .option('--search <text>', 'name contains')
      .option('--family <family>', 'only this model family'),
  ).action(
    run<{ search?: string; family?: string; limit?: number; offset?: number }>(async (ctx, o) => {
      const page = await ctx.client.models.list(o);
      ctx.emit(page, () =>
        renderTable(
          ['id', 'name', 'version', 'family', 'max positions', 'parameters', 'created'],
          page.items.map((m) => [
            m.id,
            m.name,
            m.version,
            m.model_family,
            m.max_position_embeddings,
            humanCount(m.parameter_count),
            time(m.created_at),
          ]),
          '(no models)',
        ),
      );
    }),
  );
  models
    .command('get')
    .description('Show one catalog model')
    .argument('<id>', 'model id')
    .action(
      run(async (ctx, _o, [id]) => {
        const m = await ctx.client.models.get(id!);
        ctx.emit(m, () => renderFields(modelFields(m)));
      }),
    );
  models
    .command('create')
    .description('Register a model in the catalog')
    .argument('<name>', 'model name, e.g. llama-3-8b-pretrain-v1')
    .argument('[version]', 'version label (default 1)')
    .requiredOption('--family <family>', 'model family, e.g. llama')
    .requiredOption('--max-position-embeddings <n>', 'context length of the model', positiveInt)
    .requiredOption('--parameter-count <n>', 'number of parameters, e.g. 8000000000', positiveInt)
    .option('--storage-uri <uri>', 'where the weights live')
    .option('--description <text>', 'free text')
    .action(
      run<CreateModelOpts>(async (ctx, o, [name, version]) => {
        const m = await ctx.client.models.create({
          name: name!,
          version,
          model_family: o.family,
          max_position_embeddings: o.maxPositionEmbeddings,
          parameter_count: o.parameterCount,
          storage_uri: o.storageUri,
          description: o.description,
        });
        ctx.emit(m, () => `Model registered: ${m.id}\n${renderFields(modelFields(m))}`);
      }),
    );
}

function registerDatasets(program: Command, run: Run): void {
  const datasets = program.command('datasets').description('Datasets in the catalog');
  withPaging(
    datasets
      .command('list')
      .description('List catalog datasets')
      .option('--search <text>', 'name contains')
      .addOption(new Option('--type <type>', 'only this dataset type').choices(DATASET_TYPES)),
  ).action(
    run<{ search?: string; type?: DatasetType; limit?: number; offset?: number }>(async (ctx, o) => {
      const page = await ctx.client.datasets.list(o);
      ctx.emit(page, () =>
        renderTable(
          ['id', 'name', 'version', 'type', 'rows', 'size', 'created'],
          page.items.map((d) => [
            d.id,
            d.name,
            d.version,
            d.type,
            d.row_count,
            humanBytes(d.size_bytes),
            time(d.created_at),
          ]),
          '(no datasets)',
        ),
      );
    }),
  );
  datasets
    .command('get')
    .description('Show one catalog dataset with its validation report')
    .argument('<id>', 'dataset id')
    .action(
      run(async (ctx, _o, [id]) => {
        const d = await ctx.client.datasets.get(id!);
        ctx.emit(d, () => datasetText(d));
      }),
    );
  datasets
    .command('create')
    .description('Register a dataset by reference (--storage-uri) or upload a JSONL/CSV file (--file)')
    .argument('<name>', 'dataset name, e.g. enterprise-instruction')
    .argument('<version>', 'version label, e.g. v1')
    .addOption(new Option('--type <type>', 'dataset type').choices(DATASET_TYPES).makeOptionMandatory())
    .option('--storage-uri <uri>', 'where the data already lives (register by reference)')
    .option('--file <path>', 'JSONL or CSV file to upload; every row is checked against --type')
    .option('--description <text>', 'free text (references only)')
    .action(
      run<CreateDatasetOpts>(async (ctx, o, [name, version]) => {
        if (!o.file === !o.storageUri)
          throw new UsageError('give exactly one of --storage-uri (reference) or --file (upload)');
        const base = { name: name!, version: version!, type: o.type };
        const d = o.file
          ? await ctx.client.datasets.upload({ ...base, file: resolve(ctx.io.cwd, o.file) })
          : await ctx.client.datasets.create({
              ...base,
              storage_uri: o.storageUri!,
              description: o.description,
            });
        ctx.emit(d, () => `${ctx.lastMessage() ?? 'Dataset registered'}: ${d.id}\n${datasetText(d)}`);
      }),
    );
}

export function registerCatalog(program: Command, run: Run): void {
  registerModels(program, run);
  registerDatasets(program, run);
}
