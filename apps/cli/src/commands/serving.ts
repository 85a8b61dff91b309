import type { Command } from 'commander';
import type { CreateEndpoint, DeploymentView, Endpoint, ValidationResult } from '@llmops/client';
import { readBodyFile } from '../body-file.ts';
import type { Ctx } from '../context.ts';
import { renderData, renderFields, renderTable, renderViolations, time } from '../output.ts';
import { withPaging, type Run } from '../program.ts';
import { registerEndpointControls } from './endpoint-control.ts';
import { renderVerdict, verdictOf } from './verdict.ts';

function renderEndpoint(e: Endpoint): string {
  const s = e.deploymentSpec;
  const fields: [string, unknown][] = [
    ['id', e.id],
    ['name', e.name],
    ['route', e.route],
    ['environment', e.environment],
    ['status', e.status],
    ['compliant', e.compliance.compliant],
    ['model', e.modelId],
    ['model ref', `${s.model_ref} (${s.model_family}, ${s.job_type} → ${s.serve_target})`],
    ['image', `${e.image} (${e.imageVariant})`],
    ['image reason', e.imageReason],
    [
      'rollout',
      s.rollout.traffic_split
        ? `${s.rollout.strategy} ${s.rollout.traffic_split.old}/${s.rollout.traffic_split.new}`
        : s.rollout.strategy,
    ],
    ['created by', e.createdBy],
    ['created', time(e.createdAt)],
  ];
  const v = e.compliance.violations;
  return renderFields(fields) + (v.length ? `\nViolations:\n${renderViolations(v)}` : '');
}

/** The native form of a deployment, as the server returns it beside the spec and in dry runs. */
interface DeploymentManifest {
  backend: 'local' | 'kserve' | 'ray';
  kind: 'InferenceService' | 'RayService' | null;
  manifest: Record<string, unknown> | null;
  error: { code: string; field: string; message: string } | null;
}

/**
 * The manifest as a YAML document (what `kubectl apply -f` takes), or a YAML comment saying why there is
 * none, so that everything printed from here on still parses as YAML. Servers from before manifests
 * existed send no backend: nothing is printed.
 */
export function renderManifest(d: DeploymentManifest | null | undefined): string {
  if (!d?.backend) return '';
  if (d.error)
    return `# No ${d.kind ?? 'manifest'} for the '${d.backend}' serving backend: ${d.error.message.replace(/\n/g, ' ')}\n`;
  if (!d.manifest)
    return `# Serving backend '${d.backend}': the local model server runs the model; there is no Kubernetes manifest.\n`;
  return `# ${d.kind} for the '${d.backend}' serving backend\n---\n${renderData(d.manifest, 'yaml')}`;
}

interface CreateOpts {
  file: string;
  dryRun?: boolean;
  idempotencyKey?: string;
}

async function create(ctx: Ctx, o: CreateOpts): Promise<number> {
  const body = (await readBodyFile(
    o.file,
    ctx.io.cwd,
    'the body of POST /serving/endpoints',
  )) as CreateEndpoint;
  if (o.dryRun) {
    const verdict = (await verdictOf(() => ctx.client.endpoints.validate(body))) as ValidationResult & {
      deployment?: DeploymentManifest | null;
    };
    ctx.emit(verdict, () => `${renderVerdict(verdict)}\n${renderManifest(verdict.deployment)}`);
    return verdict.valid ? 0 : 1;
  }
  const e = await ctx.client.endpoints.create(body, { idempotencyKey: o.idempotencyKey });
  ctx.emit(e, () => `${ctx.lastMessage() ?? 'Endpoint created'}: ${e.id}\n${renderEndpoint(e)}`);
  return 0;
}

export function registerServing(program: Command, run: Run): void {
  const endpoints = program.command('endpoints').description('Serving endpoints and their DeploymentSpecs');
  endpoints
    .command('create')
    .description('Create an endpoint from a YAML or JSON file (the body of POST /serving/endpoints)')
    .requiredOption('-f, --file <path>', 'endpoint file, YAML or JSON')
    .option(
      '--dry-run',
      'check every rule, show the image and print the Kubernetes manifest (YAML) the endpoint would get; nothing is stored',
    )
    .option('--idempotency-key <key>', 'creating again with the same key returns the original endpoint')
    .action(run<CreateOpts>((ctx, o) => create(ctx, o)));
  withPaging(endpoints.command('list').description('List serving endpoints')).action(
    run<{ limit?: number; offset?: number }>(async (ctx, o) => {
      const page = await ctx.client.endpoints.list(o);
      ctx.emit(page, () =>
        renderTable(
          ['id', 'route', 'env', 'model ref', 'status', 'compliant', 'created'],
          page.items.map((e) => [
            e.id,
            e.route,
            e.environment,
            e.deploymentSpec.model_ref,
            e.status,
            e.compliance.compliant,
            time(e.createdAt),
          ]),
          '(no endpoints)',
        ),
      );
    }),
  );
  endpoints
    .command('get')
    .description('Show one endpoint')
    .argument('<id>', 'endpoint id')
    .action(
      run(async (ctx, _o, [id]) => {
        const e = await ctx.client.endpoints.get(id!);
        ctx.emit(e, () => renderEndpoint(e));
      }),
    );
  endpoints
    .command('deployment')
    .description(
      'The stored, validated DeploymentSpec of an endpoint, the image chosen for it and its Kubernetes manifest',
    )
    .argument('<id>', 'endpoint id')
    .action(
      run(async (ctx, _o, [id]) => {
        const d = (await ctx.client.endpoints.deployment(id!)) as DeploymentView &
          Partial<Pick<DeploymentManifest, 'backend' | 'kind' | 'manifest'>> & {
            manifestError?: DeploymentManifest['error'];
          };
        // The spec is nested and is what people copy from, so the table form shows it as YAML.
        ctx.emit(
          d,
          () =>
            `${renderFields([
              ['endpoint', d.endpointId],
              ['image', `${d.image} (${d.imageVariant})`],
              ['image reason', d.imageReason],
            ])}\n${renderData({ deploymentSpec: d.deploymentSpec }, 'yaml')}${renderManifest(
              d.backend
                ? {
                    backend: d.backend,
                    kind: d.kind ?? null,
                    manifest: d.manifest ?? null,
                    error: d.manifestError ?? null,
                  }
                : null,
            )}`,
        );
      }),
    );
  registerEndpointControls(endpoints, run);
}
