import { ConflictError, type Db, type EndpointRow } from '@llmops/db';
import {
  checkDeploymentSpec,
  createEndpointSchema,
  jobTypeSchema,
  parseWithRules,
  type DeploymentLookups,
  type RuleViolation,
} from '@llmops/spec';
import type { z } from 'zod';
import { createIdempotent } from '../idempotent-create.ts';
import { requireRole, type Actor } from '../identity/actor.ts';
import { createError, notFound, schemaInvalid, validationFailed } from '../errors.ts';
import { ruleContextFor, type PlatformContext } from '../platform-context.ts';
import { selectImage, type ImageChoice } from '../platform/index.ts';

type CreateEndpoint = z.infer<typeof createEndpointSchema>;

/** The job that produced a model, when its stored spec is readable; anything else is treated as unknown. */
function producingJobInfo(job: { id: string; jobType: string | null; modelFamily: string | null }) {
  const jt = jobTypeSchema.safeParse(job.jobType);
  return jt.success && job.modelFamily
    ? { id: job.id, jobType: jt.data, modelFamily: job.modelFamily }
    : null;
}

export function createServingService(deps: { db: Db; platform: PlatformContext }) {
  const { repos } = deps.db;
  const { config } = deps.platform;

  async function lookupsFor(projectId: string, body: CreateEndpoint): Promise<DeploymentLookups> {
    const [model, byId] = await Promise.all([
      repos.models.getByName(projectId, body.deploymentSpec.model_ref),
      body.modelId !== undefined ? repos.models.getById(projectId, body.modelId) : undefined,
    ]);
    const info = (m: typeof model) =>
      m && {
        id: m.id,
        name: m.name,
        modelFamily: m.modelFamily,
        maxPositionEmbeddings: m.maxPositionEmbeddings,
        parameterCount: m.parameterCount,
      };
    const producing = model ? await repos.jobs.findByArtifact(projectId, model.name) : null;
    const out: DeploymentLookups = {
      model: info(model),
      producingJob: producing ? producingJobInfo(producing) : null,
    };
    if (byId !== undefined) out.modelById = info(byId);
    return out;
  }

  async function gate(
    projectId: string,
    raw: unknown,
  ): Promise<
    | { schemaViolations: RuleViolation[] }
    | { body: CreateEndpoint; violations: RuleViolation[]; image: ImageChoice }
  > {
    const parsed = parseWithRules(createEndpointSchema, raw, ['deploymentSpec']);
    if (!parsed.ok) return { schemaViolations: parsed.violations };
    const body = parsed.value;
    const ctx = { ...ruleContextFor(config, body.environment), lookups: await lookupsFor(projectId, body) };
    const violations = checkDeploymentSpec(body.deploymentSpec, ctx);
    const image = selectImage(
      { config, kind: 'serve', serveTarget: body.deploymentSpec.serve_target },
      body.deploymentSpec.use_gpu,
      deps.platform.gpuPreference,
      deps.platform.gpu,
    );
    return { body, violations, image };
  }

  return {
    gate,

    async validate(actor: Actor, raw: unknown) {
      const project = requireRole(actor, 'viewer');
      const g = await gate(project.id, raw);
      if ('schemaViolations' in g)
        return { valid: false, violations: g.schemaViolations, image: null, estimates: null };
      return { valid: g.violations.length === 0, violations: g.violations, image: g.image, estimates: null };
    },

    async create(
      actor: Actor,
      raw: unknown,
      headerKey: string | undefined,
    ): Promise<{ endpoint: EndpointRow; replayed: boolean }> {
      const project = requireRole(actor, 'editor');
      const g = await gate(project.id, raw);
      if ('schemaViolations' in g) throw schemaInvalid(g.schemaViolations, 'Deployment');
      if (g.violations.length) throw validationFailed(g.violations, 'Deployment');
      const { body, image } = g;
      const create = async (tx: Db['sql']) => {
        const endpoint = await repos.endpoints.create(
          {
            projectId: project.id,
            name: body.name ?? null,
            route: body.route,
            environment: body.environment,
            modelId: body.modelId ?? null,
            modelRef: body.deploymentSpec.model_ref,
            spec: body.deploymentSpec,
            request: body,
            image: image.image,
            imageVariant: image.variant,
            imageReason: image.reason,
            createdBy: actor.userId,
          },
          tx,
        );
        return { id: endpoint.id, value: endpoint };
      };
      try {
        const { value, replayed } = await createIdempotent(deps.db, {
          projectId: project.id,
          key: headerKey ?? body.idempotencyKey,
          body,
          resourceType: 'serving_endpoint',
          ttlHours: config.policies.idempotency_ttl_hours,
          create,
          load: async (id) => (await repos.endpoints.getById(project.id, id))!,
        });
        return { endpoint: value, replayed };
      } catch (e) {
        if (e instanceof ConflictError)
          throw createError(
            'CONFLICT',
            `Route '${body.route}' is already used by another endpoint in project '${project.slug}'`,
          );
        throw e;
      }
    },

    async list(actor: Actor, q: { limit: number; offset: number }) {
      const project = requireRole(actor, 'viewer');
      return repos.endpoints.list(project.id, q);
    },

    async get(actor: Actor, id: string) {
      const project = requireRole(actor, 'viewer');
      const ep = await repos.endpoints.getById(project.id, id);
      if (!ep) throw notFound('Serving endpoint', id);
      return ep;
    },
  };
}

export type ServingService = ReturnType<typeof createServingService>;
