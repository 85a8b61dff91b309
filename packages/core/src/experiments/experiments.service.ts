import type { Db } from '@llmops/db';
import type { MlflowApi, Run } from '@llmops/integrations-mlflow';
import { MAX_COMPARED_RUNS } from '@llmops/spec';
import { createError } from '../errors.ts';
import { requireRole, type Actor, type ActorProject } from '../identity/actor.ts';
import { callMlflow, LLMOPS_TAGS, msToIso, requireMlflow, tagsToRecord } from '../registry/mlflow.ts';
import {
  alignByStep,
  diffParams,
  wireMetricValue,
  type AlignedMetric,
  type ParamRow,
  type WireMetricValue,
} from './compare.ts';
import { experimentNameOf } from '../tracking/dispatcher.ts';
import { buildRunFilters, searchMerged } from './search.ts';

export interface ExperimentsServiceDeps {
  db: Db;
  mlflow?: MlflowApi | null;
  /** The MLflow experiment that holds a project's runs; default `<organisation slug>/<project slug>`. */
  experimentName?: (project: ActorProject) => Promise<string>;
}

export interface ExperimentRunView {
  runId: string;
  runName: string | null;
  experimentId: string;
  status: string;
  startTime: string | null;
  endTime: string | null;
  jobId: string | null;
  datasets: { name: string; digest: string; context: string | null }[];
  params: Record<string, string>;
  metrics: Record<string, WireMetricValue>;
  tags: Record<string, string>;
  runUrl: string;
}

export interface RunComparison {
  runs: ExperimentRunView[];
  params: ParamRow[];
  metrics: AlignedMetric[];
}

export function toExperimentRun(mlflow: MlflowApi, run: Run): ExperimentRunView {
  const tags = tagsToRecord(run.data.tags);
  return {
    runId: run.info.run_id,
    runName: run.info.run_name || null,
    experimentId: run.info.experiment_id,
    status: run.info.status,
    startTime: msToIso(run.info.start_time),
    endTime: msToIso(run.info.end_time),
    jobId: tags[LLMOPS_TAGS.jobId] ?? null,
    datasets: (run.inputs?.dataset_inputs ?? []).map((d) => ({
      name: d.dataset.name,
      digest: d.dataset.digest,
      context: tagsToRecord(d.tags)['mlflow.data.context'] ?? null,
    })),
    params: tagsToRecord(run.data.params),
    metrics: Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, wireMetricValue(m.value)])),
    tags,
    runUrl: mlflow.runUrl(run.info.experiment_id, run.info.run_id),
  };
}

/** Searching and comparing the project's runs in MLflow; nothing is copied into the platform. */
export function createExperimentsService(deps: ExperimentsServiceDeps) {
  // The same name the tracking dispatcher creates the project's experiment under.
  const experimentName =
    deps.experimentName ??
    (async (project: ActorProject) => {
      const org = await deps.db.repos.orgs.getById(project.organisationId);
      return experimentNameOf(org?.slug ?? project.organisationId, project.slug);
    });
  const api = () => requireMlflow(deps.mlflow);

  const inProject = (run: Run, project: ActorProject) =>
    tagsToRecord(run.data.tags)[LLMOPS_TAGS.projectId] === project.id;

  return {
    async searchRuns(
      actor: Actor,
      q: {
        model?: string | undefined;
        dataset?: string | undefined;
        from?: string | undefined;
        to?: string | undefined;
        limit: number;
        pageToken?: string | undefined;
      },
    ): Promise<{ items: ExperimentRunView[]; nextPageToken: string | null; experimentId: string | null }> {
      const project = requireRole(actor, 'viewer');
      const filters = buildRunFilters({
        projectId: project.id,
        model: q.model,
        dataset: q.dataset,
        from: q.from,
        to: q.to,
      });
      const mlflow = api();
      const name = await experimentName(project);
      const experiment = await callMlflow(mlflow, (m) => m.getExperimentByName(name));
      if (!experiment || experiment.lifecycle_stage === 'deleted')
        return { items: [], nextPageToken: null, experimentId: null };
      const page = await callMlflow(mlflow, (m) =>
        searchMerged(
          filters,
          (filter, pageToken, maxResults) =>
            m.searchRuns({
              experimentIds: [experiment.experiment_id],
              filter,
              maxResults,
              ...(pageToken ? { pageToken } : {}),
            }),
          q.limit,
          q.pageToken,
        ),
      );
      return {
        items: page.items.map((r) => toExperimentRun(mlflow, r)),
        nextPageToken: page.nextPageToken,
        experimentId: experiment.experiment_id,
      };
    },

    /** Parameters side by side and every metric's history aligned by step, for up to 10 runs of the project. */
    async compare(actor: Actor, runIds: readonly string[]): Promise<RunComparison> {
      const project = requireRole(actor, 'viewer');
      const ids = [...new Set(runIds)];
      if (ids.length === 0) throw createError('BAD_REQUEST', 'run_ids must name at least one run');
      if (ids.length > MAX_COMPARED_RUNS)
        throw createError(
          'BAD_REQUEST',
          `At most ${MAX_COMPARED_RUNS} runs can be compared; ${ids.length} were given`,
        );
      const mlflow = api();
      const runs = await callMlflow(mlflow, (m) => Promise.all(ids.map((id) => m.getRun(id))));
      const missing = ids.filter((id, i) => !runs[i] || !inProject(runs[i], project));
      if (missing.length)
        throw createError(
          'NOT_FOUND',
          `Run(s) not found in project '${project.slug}': ${missing.join(', ')}`,
          {
            details: { missing },
          },
        );
      const found = runs as Run[];
      const views = found.map((r) => toExperimentRun(mlflow, r));
      const keys = [...new Set(found.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
      const metrics = await callMlflow(mlflow, (m) =>
        Promise.all(
          keys.map(async (key) => {
            const histories = await Promise.all(
              found.map(async (r) => ({
                runId: r.info.run_id,
                points: (r.data.metrics ?? []).some((x) => x.key === key)
                  ? await m.getMetricHistory(r.info.run_id, key)
                  : [],
              })),
            );
            return alignByStep(key, histories);
          }),
        ),
      );
      return { runs: views, params: diffParams(views), metrics };
    },
  };
}

export type ExperimentsService = ReturnType<typeof createExperimentsService>;
