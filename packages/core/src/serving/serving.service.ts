import { randomUUID } from 'node:crypto';
import { ConflictError, type Db, type EndpointRow } from '@llmops/db';
import type { ManifestContext } from '@llmops/integrations-kubernetes';
import {
  checkDeploymentSpec,
  createEndpointSchema,
  deploymentSpecSchema,
  environmentSchema,
  jobTypeSchema,
  parseWithRules,
  type DeploymentLookups,
  type DeploymentSpec,
  type Environment,
  type RuleViolation,
} from '@llmops/spec';
import type { z } from 'zod';
import { createIdempotent } from '../idempotent-create.ts';
import { requireRole, type Actor } from '../identity/actor.ts';
import { createError, notFound, schemaInvalid, validationFailed } from '../errors.ts';
import { ruleContextFor, type PlatformContext } from '../platform-context.ts';
import { selectImage, type ImageChoice } from '../platform/index.ts';
import {
  deploymentManifest,
  gpuTypeFor,
  servingBackendFromEnv,
  type DeploymentManifest,
  type ServingBackendConfig,
} from './deployment-manifest.ts';

type CreateEndpoint = z.infer<typeof createEndpointSchema>;

/** The job that produced a model, when its stored spec is readable; anything else is treated as unknown. */
function producingJobInfo(job: { id: string; jobType: string | null; modelFamily: string | null }) {
  const jt = jobTypeSchema.safeParse(job.jobType);
  return jt.success && job.modelFamily
    ? { id: job.id, jobType: jt.data, modelFamily: job.modelFamily }
    : null;
}

export {
  RAY_NAMESPACE,
  SERVING_BACKENDS,
  servingBackendFromEnv,
  type DeploymentManifest,
  type ServingBackend,
  type ServingBackendConfig,
} from './deployment-manifest.ts';

/** Endpoint id written into manifests of a dry run (the real id is assigned when the endpoint is created). */
export const DRY_RUN_ENDPOINT_ID = 'dry-run';

export function createServingService(deps: {
  db: Db;
  platform: PlatformContext;
  /** Where endpoints are deployed; default: SERVING_FRAMEWORK_DEFAULT & co. from the process environment. */
  servingBackend?: ServingBackendConfig;
}) {
  const { repos } = deps.db;
  const { config } = deps.platform;
  const serving = deps.servingBackend ?? servingBackendFromEnv();

  /**
   * The serve image on a cluster: the configured variant for use_gpu. The endpoint's stored image follows
   * this machine's GPU (the local model server); on Kubernetes the nodes the manifest asks for decide.
   */
  const clusterImage = (spec: DeploymentSpec) =>
    config.images.serve[spec.serve_target][spec.use_gpu ? 'gpu' : 'cpu'];

  /**
   * The native form of a deployment on the configured backend (null manifest for the local model server).
   * Everything but the spec comes from the platform: the selected image, the model version's storage URI,
   * the GPU type configured for the environment.
   */
  async function manifestFor(
    projectId: string,
    input: {
      endpointId: string;
      name: string | null;
      projectSlug: string;
      environment: Environment;
      modelId: string | null;
      spec: DeploymentSpec;
    },
  ): Promise<DeploymentManifest> {
    if (serving.backend === 'local') return deploymentManifest('local', input.spec, {} as ManifestContext);
    const byId = input.modelId ? await repos.models.getById(projectId, input.modelId) : null;
    const model =
      byId && byId.name === input.spec.model_ref
        ? byId
        : await repos.models.getByName(projectId, input.spec.model_ref);
    return deploymentManifest(serving.backend, input.spec, {
      endpointId: input.endpointId,
      name: input.name,
      namespace: serving.namespace,
      project: input.projectSlug,
      modelVersion: model?.version ?? 'unknown',
      storageUri: model?.storageUri ?? null,
      image: clusterImage(input.spec),
      gpuType: gpuTypeFor(config, input.environment, input.spec),
    });
  }

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
    // A modelId that names a version of model_ref is the model checked (its limits, its files).
    const chosen = byId && model && byId.name === model.name ? byId : model;
    const out: DeploymentLookups = {
      model: info(chosen),
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
        return {
          valid: false,
          violations: g.schemaViolations,
          image: null,
          estimates: null,
          deployment: null,
        };
      // A spec that breaks a rule gets no manifest: the violations already say what to fix.
      if (g.violations.length)
        return { valid: false, violations: g.violations, image: g.image, estimates: null, deployment: null };
      const deployment = await manifestFor(project.id, {
        endpointId: DRY_RUN_ENDPOINT_ID,
        name: g.body.name ?? null,
        projectSlug: project.slug,
        environment: g.body.environment,
        modelId: g.body.modelId ?? null,
        spec: g.body.deploymentSpec,
      });
      return {
        valid: deployment.error === null,
        violations: g.violations,
        image: g.image,
        estimates: null,
        deployment,
      };
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
      // The id is chosen here so that the manifest (named after it when the endpoint has no name) can be
      // checked before anything is stored: a spec the backend cannot run is refused, not stored.
      const id = randomUUID();
      const deployment = await manifestFor(project.id, {
        endpointId: id,
        name: body.name ?? null,
        projectSlug: project.slug,
        environment: body.environment,
        modelId: body.modelId ?? null,
        spec: body.deploymentSpec,
      });
      if (deployment.error)
        throw createError(
          'VALIDATION_FAILED',
          `Deployment cannot be converted to a ${deployment.kind} for the '${deployment.backend}' serving backend: ${deployment.error.message}`,
          { details: { backend: deployment.backend, ...deployment.error } },
        );
      const create = async (tx: Db['sql']) => {
        const endpoint = await repos.endpoints.create(
          {
            id,
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

    /** The serving backend endpoints go to. */
    backend: serving,

    /**
     * The stored endpoint with its native form on the configured backend, derived from the stored spec and
     * image and the model version's current storage URI (FR-025).
     */
    async deployment(actor: Actor, id: string) {
      const project = requireRole(actor, 'viewer');
      const endpoint = await repos.endpoints.getById(project.id, id);
      if (!endpoint) throw notFound('Serving endpoint', id);
      const spec = deploymentSpecSchema.safeParse(endpoint.spec);
      const environment = environmentSchema.safeParse(endpoint.environment);
      const deployment: DeploymentManifest =
        spec.success && environment.success
          ? await manifestFor(project.id, {
              endpointId: endpoint.id,
              name: endpoint.name,
              projectSlug: project.slug,
              environment: environment.data,
              modelId: endpoint.modelId,
              spec: spec.data,
            })
          : {
              backend: serving.backend,
              kind: null,
              manifest: null,
              error: {
                code: 'MANIFEST_INVALID',
                field: 'deploymentSpec',
                message: 'the stored DeploymentSpec no longer matches the schema; re-validate the endpoint',
              },
            };
      return { endpoint, deployment };
    },
  };
}

export type ServingService = ReturnType<typeof createServingService>;
