import { isConflictError, MAX_PAGE_SIZE, type ModelRow } from '@llmops/db';
import { storageUriOf } from './prepare.ts';
import type { ActivityDeps, RegisteredModel, RegisterModelInput } from './types.ts';
import { WORKER_ACTOR } from './attempt-recorder.ts';

const PARAMETER_METRICS = ['num_parameters', 'parameter_count', 'n_params'];

function lineageJobId(model: ModelRow): unknown {
  const lineage = model.metadata.lineage;
  return typeof lineage === 'object' && lineage !== null
    ? (lineage as Record<string, unknown>).jobId
    : undefined;
}

export function createRegisterActivities(deps: Pick<ActivityDeps, 'db' | 'artifactsDir'>) {
  const { db } = deps;

  /** Every catalog version of `name` in the project (exact name; the repository searches substrings). */
  async function versionsOf(projectId: string, name: string): Promise<ModelRow[]> {
    const out: ModelRow[] = [];
    for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
      const page = await db.repos.models.list(projectId, { search: name, limit: MAX_PAGE_SIZE, offset });
      out.push(...page.items.filter((m) => m.name === name));
      if (page.items.length < MAX_PAGE_SIZE) return out;
    }
  }

  return {
    /**
     * Registers the trained model as a new catalog version of `output.artifact_name` with its lineage.
     * Idempotent: the version created for this job is found again by its lineage on a retry.
     */
    async registerModel(input: RegisterModelInput): Promise<RegisteredModel> {
      const { plan } = input;
      const storageUri = storageUriOf(input.modelPath, deps.artifactsDir);
      const versions = await versionsOf(plan.projectId, plan.name);
      const mine = versions.find((m) => lineageJobId(m) === input.jobId);
      const toResult = (m: ModelRow): RegisteredModel => ({
        id: m.id,
        name: m.name,
        version: m.version,
        storageUri: m.storageUri ?? storageUri,
      });
      if (mine) return toResult(mine);
      const highest = Math.max(0, ...versions.map((m) => (/^\d+$/.test(m.version) ? Number(m.version) : 0)));
      const reported = PARAMETER_METRICS.map((k) => input.metrics[k]).find((v) => v !== undefined && v > 0);
      try {
        const model = await db.repos.models.create({
          projectId: plan.projectId,
          name: plan.name,
          version: String(highest + 1),
          modelFamily: plan.modelFamily,
          maxPositionEmbeddings: plan.maxPositionEmbeddings,
          parameterCount: Math.round(reported ?? plan.parameterCount ?? 1),
          storageUri,
          description: `Trained by job ${input.jobId}`,
          metadata: {
            lineage: {
              datasetSha256: plan.datasetSha256,
              specHash: plan.specHash,
              runtimeVersion: input.runtimeVersion,
              parentModel: plan.parentModel,
              jobId: input.jobId,
            },
            metrics: input.metrics,
            attempt: input.attempt,
          },
          createdBy: WORKER_ACTOR,
        });
        return toResult(model);
      } catch (error) {
        // Another job registered the same version number first: the activity retries with the next one.
        if (isConflictError(error))
          throw new Error(`version ${highest + 1} of model '${plan.name}' was taken; retrying`);
        throw error;
      }
    },
  };
}
