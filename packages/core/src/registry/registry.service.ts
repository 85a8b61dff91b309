import type { Db } from '@llmops/db';
import type { MlflowApi, ModelVersion, RegisteredModel } from '@llmops/integrations-mlflow';
import type { RegistryStage, Role } from '@llmops/spec';
import { createError, notFound } from '../errors.ts';
import { actorLabel, hasRole, requireRole, type Actor, type ActorProject } from '../identity/actor.ts';
import { runPromotionGates, type PromotionGate } from './gates.ts';
import { planRollback } from './history.ts';
import { callMlflow, filterLiteral, LLMOPS_TAGS, msToIso, requireMlflow, tagsToRecord } from './mlflow.ts';

export interface RegistryServiceDeps {
  db: Db;
  /** The MLflow client; null or absent: every call answers 503 naming MLflow. */
  mlflow?: MlflowApi | null;
  /** Checks run before a promotion moves an alias; empty by default. */
  gates?: readonly PromotionGate[];
}

/** Who may move each stage's alias (promote and roll back). Reading needs 'viewer'. */
export const STAGE_ROLES: Record<RegistryStage, Role> = { dev: 'editor', staging: 'editor', prod: 'admin' };

export interface RegistryModelView {
  name: string;
  description: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  aliases: Record<string, string>;
  latestVersion: string | null;
  tags: Record<string, string>;
  mlflowUrl: string;
}

export interface ModelVersionView {
  name: string;
  version: string;
  status: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY' | null;
  source: string;
  runId: string | null;
  createdAt: string | null;
  description: string | null;
  aliases: string[];
  tags: Record<string, string>;
  lineage: {
    jobId: string | null;
    projectId: string | null;
    datasetDigest: string | null;
    specHash: string | null;
    runtimeVersion: string | null;
  };
  mlflowUrl: string;
}

export interface AliasMoveView {
  id: string | null;
  model: string;
  stage: RegistryStage;
  kind: 'promote' | 'rollback';
  fromVersion: string | null;
  toVersion: string;
  moved: boolean;
  actor: string;
  at: string;
}

export interface TokenPage<T> {
  items: T[];
  nextPageToken: string | null;
}

const byVersionDesc = (a: ModelVersion, b: ModelVersion) => Number(b.version) - Number(a.version);

function modelUrl(mlflow: MlflowApi, name: string): string {
  return `${mlflow.baseUrl}/#/models/${encodeURIComponent(name)}`;
}

export function toRegistryModel(mlflow: MlflowApi, m: RegisteredModel): RegistryModelView {
  const latest = [...(m.latest_versions ?? [])].sort(byVersionDesc)[0];
  return {
    name: m.name,
    description: m.description || null,
    createdAt: msToIso(m.creation_timestamp),
    updatedAt: msToIso(m.last_updated_timestamp),
    aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, a.version])),
    latestVersion: latest?.version ?? null,
    tags: tagsToRecord(m.tags),
    mlflowUrl: modelUrl(mlflow, m.name),
  };
}

/** `projectId`: the project of the registered model, when the version itself carries no project tag. */
export function toModelVersion(
  mlflow: MlflowApi,
  v: ModelVersion,
  projectId: string | null = null,
): ModelVersionView {
  const tags = tagsToRecord(v.tags);
  return {
    name: v.name,
    version: v.version,
    status: v.status ?? null,
    source: v.source,
    runId: v.run_id || null,
    createdAt: msToIso(v.creation_timestamp),
    description: v.description || null,
    aliases: v.aliases ?? [],
    tags,
    lineage: {
      jobId: tags[LLMOPS_TAGS.jobId] ?? null,
      projectId: tags[LLMOPS_TAGS.projectId] ?? projectId,
      datasetDigest: tags[LLMOPS_TAGS.datasetDigest] ?? null,
      specHash: tags[LLMOPS_TAGS.specHash] ?? null,
      runtimeVersion: tags[LLMOPS_TAGS.runtimeVersion] ?? null,
    },
    mlflowUrl: mlflow.modelVersionUrl(v.name, v.version),
  };
}

const projectFilter = (project: ActorProject) =>
  `tags.\`${LLMOPS_TAGS.projectId}\` = ${filterLiteral(project.id, 'project id')}`;

/**
 * The model registry over MLflow: registered models and versions are MLflow's; the platform adds project
 * scoping (tag llmops.project_id on the registered model), stage aliases with a move history for
 * rollback (table registry_alias_moves), and promotion gates.
 */
export function createRegistryService(deps: RegistryServiceDeps) {
  const { repos } = deps.db;
  const gates = deps.gates ?? [];
  const api = () => requireMlflow(deps.mlflow);

  /** The registered model when it belongs to the actor's project; 404 otherwise (other projects' names stay hidden). */
  async function modelOf(mlflow: MlflowApi, project: ActorProject, name: string): Promise<RegisteredModel> {
    const model = await callMlflow(mlflow, (m) => m.getRegisteredModel(name));
    if (!model || tagsToRecord(model.tags)[LLMOPS_TAGS.projectId] !== project.id)
      throw notFound('Registered model', name);
    return model;
  }

  async function versionOf(mlflow: MlflowApi, name: string, version: string): Promise<ModelVersion> {
    const v = await callMlflow(mlflow, (m) => m.getModelVersion(name, version));
    if (!v) throw createError('NOT_FOUND', `Version ${version} of registered model '${name}' not found`);
    return v;
  }

  const aliasTarget = (mlflow: MlflowApi, name: string, alias: string) =>
    callMlflow(mlflow, async (m) => (await m.getVersionByAlias(name, alias))?.version ?? null);

  function stageProject(actor: Actor, stage: RegistryStage, verb: string): ActorProject {
    const needed = STAGE_ROLES[stage];
    const project = requireRole(actor, 'viewer');
    if (!hasRole(actor, needed))
      throw createError(
        'FORBIDDEN',
        `${verb} '${stage}' needs the '${needed}' role in project '${project.slug}'; you are '${actor.role}'`,
      );
    return project;
  }

  return {
    async listModels(
      actor: Actor,
      q: { search?: string | undefined; limit: number; pageToken?: string | undefined },
    ): Promise<TokenPage<RegistryModelView>> {
      const project = requireRole(actor, 'viewer');
      const mlflow = api();
      const clauses = [projectFilter(project)];
      if (q.search) clauses.push(`name ILIKE ${filterLiteral(`%${q.search}%`, 'search')}`);
      const page = await callMlflow(mlflow, (m) =>
        m.searchRegisteredModels({
          filter: clauses.join(' AND '),
          maxResults: q.limit,
          ...(q.pageToken ? { pageToken: q.pageToken } : {}),
        }),
      );
      return { items: page.items.map((m) => toRegistryModel(mlflow, m)), nextPageToken: page.nextPageToken };
    },

    async getModel(actor: Actor, name: string): Promise<RegistryModelView> {
      const project = requireRole(actor, 'viewer');
      const mlflow = api();
      return toRegistryModel(mlflow, await modelOf(mlflow, project, name));
    },

    /** Newest version first within the page. */
    async listVersions(
      actor: Actor,
      name: string,
      q: { limit: number; pageToken?: string | undefined },
    ): Promise<TokenPage<ModelVersionView>> {
      const project = requireRole(actor, 'viewer');
      const mlflow = api();
      await modelOf(mlflow, project, name);
      const page = await callMlflow(mlflow, (m) =>
        m.searchModelVersions({
          filter: `name = ${filterLiteral(name, 'model name')}`,
          maxResults: q.limit,
          ...(q.pageToken ? { pageToken: q.pageToken } : {}),
        }),
      );
      return {
        items: [...page.items].sort(byVersionDesc).map((v) => toModelVersion(mlflow, v, project.id)),
        nextPageToken: page.nextPageToken,
      };
    },

    async getByAlias(actor: Actor, name: string, alias: string): Promise<ModelVersionView> {
      const project = requireRole(actor, 'viewer');
      const mlflow = api();
      await modelOf(mlflow, project, name);
      const v = await callMlflow(mlflow, (m) => m.getVersionByAlias(name, alias));
      if (!v) throw createError('NOT_FOUND', `Alias '${alias}' is not set on registered model '${name}'`);
      return toModelVersion(mlflow, v, project.id);
    },

    /**
     * Moves the stage's alias to the version after every gate allows it. Under a per-alias lock: the
     * current target is read, gates run, the move is recorded and MLflow's alias set; when MLflow fails
     * the record is rolled back with the transaction.
     */
    async promote(
      actor: Actor,
      name: string,
      body: { version: string; stage: RegistryStage },
    ): Promise<AliasMoveView> {
      const project = stageProject(actor, body.stage, 'Promoting to');
      const mlflow = api();
      const model = await modelOf(mlflow, project, name);
      const version = await versionOf(mlflow, name, body.version);
      if (version.status && version.status !== 'READY')
        throw createError(
          'CONFLICT',
          `Version ${body.version} of '${name}' is ${version.status}; only READY versions can be promoted`,
          { details: { status: version.status } },
        );
      return repos.registry.withAliasLock(name, body.stage, async () => {
        const current = await aliasTarget(mlflow, name, body.stage);
        const base = { model: name, stage: body.stage, kind: 'promote' as const, actor: actorLabel(actor) };
        if (current === body.version)
          return {
            ...base,
            id: null,
            fromVersion: current,
            toVersion: body.version,
            moved: false,
            at: new Date().toISOString(),
          };
        const outcome = await runPromotionGates(gates, {
          actor,
          project,
          model,
          version,
          stage: body.stage,
          currentVersion: current,
        });
        if (!outcome.allowed)
          throw createError(
            'CONFLICT',
            `Promotion of '${name}' version ${body.version} to '${body.stage}' refused by gate '${outcome.gate}': ${outcome.reason}`,
            { details: { gate: outcome.gate, reason: outcome.reason } },
          );
        const move = await repos.registry.appendMove({
          projectId: project.id,
          modelName: name,
          alias: body.stage,
          kind: 'promote',
          fromVersion: current,
          toVersion: body.version,
          actor: base.actor,
        });
        await callMlflow(mlflow, (m) => m.setAlias(name, body.stage, body.version));
        return {
          ...base,
          id: move.id,
          fromVersion: current,
          toVersion: body.version,
          moved: true,
          at: move.at,
        };
      });
    },

    /**
     * Moves the stage's alias back to where it pointed before the latest promotion not yet rolled back.
     * Gates do not run: a rollback returns to a version that already passed them.
     */
    async rollback(actor: Actor, name: string, body: { stage: RegistryStage }): Promise<AliasMoveView> {
      const project = stageProject(actor, body.stage, 'Rolling back');
      const mlflow = api();
      await modelOf(mlflow, project, name);
      return repos.registry.withAliasLock(name, body.stage, async () => {
        const current = await aliasTarget(mlflow, name, body.stage);
        const history = await repos.registry.history(name, body.stage);
        const plan = planRollback(history, current, body.stage);
        if (!plan.ok) throw createError('CONFLICT', `Cannot roll back '${name}': ${plan.reason}`);
        const target = await callMlflow(mlflow, (m) => m.getModelVersion(name, plan.target));
        if (!target || (target.status && target.status !== 'READY'))
          throw createError(
            'CONFLICT',
            `Cannot roll back '${name}' '${body.stage}' to version ${plan.target}: ${target ? `it is ${target.status}` : 'it no longer exists in MLflow'}`,
          );
        const move = await repos.registry.appendMove({
          projectId: project.id,
          modelName: name,
          alias: body.stage,
          kind: 'rollback',
          fromVersion: current,
          toVersion: plan.target,
          revertsId: plan.reverts.id,
          actor: actorLabel(actor),
        });
        await callMlflow(mlflow, (m) => m.setAlias(name, body.stage, plan.target));
        return {
          id: move.id,
          model: name,
          stage: body.stage,
          kind: 'rollback',
          fromVersion: current,
          toVersion: plan.target,
          moved: true,
          actor: move.actor,
          at: move.at,
        };
      });
    },

    /** The recorded moves of one stage's alias (or of every stage), newest first. */
    async history(actor: Actor, name: string, stage?: RegistryStage): Promise<AliasMoveView[]> {
      const project = requireRole(actor, 'viewer');
      await modelOf(api(), project, name);
      const moves = await repos.registry.history(name, stage);
      return moves.reverse().map((m) => ({
        id: m.id,
        model: m.modelName,
        stage: m.alias as RegistryStage,
        kind: m.kind,
        fromVersion: m.fromVersion,
        toVersion: m.toVersion,
        moved: true,
        actor: m.actor,
        at: m.at,
      }));
    },
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;
