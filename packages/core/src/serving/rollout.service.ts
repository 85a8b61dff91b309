import type { Db, EndpointRow, RevisionMode, RevisionRow } from '@llmops/db';
import {
  deploymentSpecSchema,
  rolloutAnalysisSchema,
  type DeploymentInput,
  type DeploymentSpec,
  type RolloutAnalysis,
  type RolloutMode,
  type RolloutStatus,
} from '@llmops/spec';
import { createError, notFound } from '../errors.ts';
import { requireRole, type Actor } from '../identity/actor.ts';
import type { RevisionStatus } from './backend.ts';
import type { DeploymentOrchestrator } from './orchestrator.ts';
import type { ServingRuntime } from './runtime.ts';
import type { RevisionStats } from './telemetry.ts';

/** What a rollout may override; everything else comes from the DeploymentSpec and the defaults. */
export interface RolloutOptions {
  modelId?: string | undefined;
  deploymentSpec?: DeploymentSpec | undefined;
  mode?: RolloutMode | undefined;
  steps?: number[] | undefined;
  stepSeconds?: number | undefined;
  holdPreviousSeconds?: number | undefined;
  readyTimeoutSeconds?: number | undefined;
  analysis?: Partial<RolloutAnalysis> | undefined;
  replicas?: number | undefined;
}

export const ROLLOUT_DEFAULTS = {
  stepSeconds: 60,
  holdPreviousSeconds: 300,
  readyTimeoutSeconds: 600,
  replicas: 1,
} as const;

/** Endpoint states in which a rollout is under way (another one is refused). */
const IN_PROGRESS = ['PENDING', 'DEPLOYING', 'ROLLING_OUT'];
const GONE = ['DELETING', 'DELETED'];
/** How many of an endpoint's newest events its status carries (all of them: GET …/events). */
const STATUS_EVENTS = 50;

/**
 * The steps of a rollout: blue-green switches at once; canary follows its traffic_split (or the given
 * steps) to 100; A/B holds at its split until promoted; shadow holds at 0 % with copies until promoted.
 */
export function rolloutSteps(mode: RolloutMode, spec: DeploymentSpec, steps?: number[]): number[] {
  const split = spec.rollout.traffic_split?.new;
  const given = steps?.length ? steps : null;
  const base =
    mode === 'blue-green'
      ? [100]
      : mode === 'shadow'
        ? [0]
        : mode === 'ab'
          ? (given ?? [split ?? 50])
          : (given ?? [split ?? 10]);
  for (let i = 1; i < base.length; i++)
    if (base[i]! <= base[i - 1]!)
      throw createError('VALIDATION_FAILED', `rollout steps must increase: ${base.join(' → ')}`, {
        details: { field: 'steps' },
      });
  return base.at(-1) === 100 ? base : [...base, 100];
}

export function createRolloutService(deps: {
  db: Db;
  orchestrator: () => DeploymentOrchestrator | null;
  serving: () => ServingRuntime | null;
}) {
  const { repos } = deps.db;

  function orchestrator(): DeploymentOrchestrator {
    const o = deps.orchestrator();
    if (!o)
      throw createError(
        'UNAVAILABLE',
        'Rollouts need the workflow engine (Temporal), which is not connected; the endpoint is stored and deploys when it is',
      );
    return o;
  }

  async function endpointOf(projectId: string, id: string): Promise<EndpointRow> {
    const ep = await repos.endpoints.getById(projectId, id);
    if (!ep || ep.status === 'DELETED') throw notFound('Serving endpoint', id);
    return ep;
  }

  /** The revision a rollout is moving traffic to, when one is under way (newest first). */
  async function inFlight(endpoint: EndpointRow): Promise<RevisionRow | null> {
    if (!['DEPLOYING', 'ROLLING_OUT'].includes(endpoint.status)) return null;
    const revs = await repos.revisions.listByEndpoint(endpoint.id);
    return revs.find((r) => ['pending', 'deploying', 'ready', 'serving'].includes(r.state)) ?? null;
  }

  async function start(by: string, endpoint: EndpointRow, opts: RolloutOptions) {
    const spec = opts.deploymentSpec ?? deploymentSpecSchema.parse(endpoint.spec);
    const model = opts.modelId
      ? await repos.models.getById(endpoint.projectId, opts.modelId)
      : await repos.models.getByName(endpoint.projectId, spec.model_ref);
    if (!model || model.name !== spec.model_ref)
      throw createError(
        'VALIDATION_FAILED',
        opts.modelId
          ? `Model '${opts.modelId}' is not a version of '${spec.model_ref}' in this project`
          : `Model '${spec.model_ref}' is not in the catalog of this project`,
        { details: { field: opts.modelId ? 'modelId' : 'deploymentSpec.model_ref' } },
      );
    if (!model.storageUri)
      throw createError(
        'VALIDATION_FAILED',
        `Model '${model.name}' v${model.version} has no files (storage URI) to serve`,
        { details: { field: 'modelId' } },
      );
    const revisions = await repos.revisions.listByEndpoint(endpoint.id);
    const previous = revisions.find((r) => r.state === 'serving' && r.traffic === 100) ?? null;
    const mode: RevisionMode = previous ? (opts.mode ?? spec.rollout.strategy) : 'blue-green';
    const steps = previous ? rolloutSteps(mode, spec, opts.steps) : [100];
    const analysis = rolloutAnalysisSchema.parse(opts.analysis ?? {});
    const o = orchestrator();
    const revision = await deps.db.sql.transaction(async () => {
      const rev = await repos.revisions.create({
        endpointId: endpoint.id,
        projectId: endpoint.projectId,
        modelId: model.id,
        modelRef: model.name,
        modelVersion: model.version,
        storageUri: model.storageUri,
        spec: spec as unknown as Record<string, unknown>,
        replicas: opts.replicas ?? previous?.replicas ?? ROLLOUT_DEFAULTS.replicas,
        mode,
        createdBy: by,
      });
      await repos.endpoints.setStatus(endpoint.id, previous ? 'ROLLING_OUT' : 'DEPLOYING');
      return rev;
    });
    const input: DeploymentInput = {
      endpointId: endpoint.id,
      revisionId: revision.id,
      previousRevisionId: previous?.id ?? null,
      mode,
      steps,
      stepSeconds: opts.stepSeconds ?? ROLLOUT_DEFAULTS.stepSeconds,
      holdPreviousSeconds: opts.holdPreviousSeconds ?? ROLLOUT_DEFAULTS.holdPreviousSeconds,
      readyTimeoutSeconds: opts.readyTimeoutSeconds ?? ROLLOUT_DEFAULTS.readyTimeoutSeconds,
      analysis,
      actor: by,
    };
    try {
      await o.startRollout(input);
    } catch (e) {
      // Nothing runs for this revision: say so and leave the endpoint as it was.
      await repos.revisions.update(revision.id, { state: 'failed', message: (e as Error).message });
      await repos.endpoints.setStatus(endpoint.id, previous ? 'READY' : endpoint.status);
      throw e;
    }
    return { revision, steps, mode };
  }

  return {
    /** The first deployment of a new endpoint (called after create). */
    async deployNew(actor: Actor, endpoint: EndpointRow, opts: RolloutOptions = {}) {
      return start(actor.userId, endpoint, { modelId: endpoint.modelId ?? undefined, ...opts });
    },

    /**
     * Endpoints stored while the workflow engine was away (PENDING, no revision yet) start deploying;
     * called when the platform connects. Returns how many started.
     */
    async deployPending(report: (line: string) => void = () => {}) {
      let started = 0;
      for (const ep of await repos.endpoints.listAll()) {
        if (ep.status !== 'PENDING' || !ep.compliance.compliant) continue;
        if ((await repos.revisions.listByEndpoint(ep.id)).length) continue;
        await start('system:platform', ep, { modelId: ep.modelId ?? undefined }).then(
          () => started++,
          (e: Error) => report(`serving: endpoint ${ep.id} could not start deploying: ${e.message}`),
        );
      }
      return started;
    },

    /** A new model version (or spec) rolled out to an endpoint that serves. */
    async rollout(actor: Actor, endpointId: string, opts: RolloutOptions) {
      const project = requireRole(actor, 'editor');
      const endpoint = await endpointOf(project.id, endpointId);
      if (GONE.includes(endpoint.status)) throw notFound('Serving endpoint', endpointId);
      const running = await inFlight(endpoint);
      const fresh =
        endpoint.status === 'PENDING' && !(await repos.revisions.listByEndpoint(endpoint.id)).length;
      if (!fresh && (running || IN_PROGRESS.includes(endpoint.status)))
        throw createError(
          'CONFLICT',
          `Endpoint ${endpoint.id} is ${endpoint.status}${running ? ` (revision ${running.seq} is being rolled out)` : ''}; promote or roll it back first`,
        );
      return start(actor.userId, endpoint, opts);
    },

    /**
     * Changes the number of replicas: a blue-green rollout of the serving model version with the new count,
     * so the endpoint keeps answering while the new replicas come up.
     */
    async scale(actor: Actor, endpointId: string, replicas: number) {
      const project = requireRole(actor, 'editor');
      const endpoint = await endpointOf(project.id, endpointId);
      const current = (await repos.revisions.listByEndpoint(endpoint.id)).find(
        (r) => r.state === 'serving' && r.traffic === 100,
      );
      if (!current || endpoint.status !== 'READY')
        throw createError(
          'CONFLICT',
          `Endpoint ${endpoint.id} is ${endpoint.status}; only an endpoint that serves (READY) can be scaled`,
        );
      if (current.replicas === replicas)
        throw createError('CONFLICT', `Endpoint ${endpoint.id} already runs ${replicas} replica(s)`);
      return start(actor.userId, endpoint, {
        modelId: current.modelId ?? undefined,
        deploymentSpec: deploymentSpecSchema.parse(current.spec),
        mode: 'blue-green',
        replicas,
        holdPreviousSeconds: 0,
      });
    },

    async promote(actor: Actor, endpointId: string) {
      const project = requireRole(actor, 'editor');
      const endpoint = await endpointOf(project.id, endpointId);
      const running = await inFlight(endpoint);
      if (!running)
        throw createError('CONFLICT', `Endpoint ${endpoint.id} has no rollout under way to promote`);
      await orchestrator().signalRollout(running.id, 'promote', { actor: actor.userId });
      return running;
    },

    async rollback(actor: Actor, endpointId: string, reason?: string) {
      const project = requireRole(actor, 'editor');
      const endpoint = await endpointOf(project.id, endpointId);
      const running = await inFlight(endpoint);
      if (!running)
        throw createError('CONFLICT', `Endpoint ${endpoint.id} has no rollout under way to roll back`);
      await orchestrator().signalRollout(running.id, 'rollback', {
        actor: actor.userId,
        ...(reason ? { reason } : {}),
      });
      return running;
    },

    /** Stops any rollout and removes every model server; the endpoint is kept as DELETED with its history. */
    async remove(actor: Actor, endpointId: string) {
      const project = requireRole(actor, 'editor');
      const endpoint = await endpointOf(project.id, endpointId);
      const o = orchestrator();
      const running = await inFlight(endpoint);
      if (running) await o.abortRollout(running.id, `endpoint deleted by ${actor.userId}`);
      await repos.endpoints.setStatus(endpoint.id, 'DELETING');
      await o.teardown(endpoint.id, actor.userId);
      return { ...endpoint, status: 'DELETING' };
    },

    /** Versions, traffic shares, replicas and health of an endpoint, with the rollout under way. */
    async status(actor: Actor, endpointId: string, opts: { windowSeconds?: number } = {}) {
      const project = requireRole(actor, 'viewer');
      const endpoint = await repos.endpoints.getById(project.id, endpointId);
      if (!endpoint) throw notFound('Serving endpoint', endpointId);
      const runtime = deps.serving();
      const revisions = await repos.revisions.listByEndpoint(endpoint.id);
      const window = opts.windowSeconds ?? 60;
      const live = ['deploying', 'ready', 'serving', 'standby'];
      const detailed = await Promise.all(
        revisions.map(async (r) => {
          let backend: RevisionStatus | null = null;
          let stats: RevisionStats | null = null;
          if (runtime && live.includes(r.state)) {
            backend = await runtime.driver.status(endpoint.id, r.id).catch(() => null);
            stats = runtime.telemetry.stats(r.id, window);
          }
          return { revision: r, backend, stats };
        }),
      );
      const running = await inFlight(endpoint);
      let rollout: RolloutStatus | null = null;
      const o = deps.orchestrator();
      if (running && o) rollout = await o.rolloutStatus(running.id).catch(() => null);
      const events = await repos.revisions.latestEvents(endpoint.id, STATUS_EVENTS);
      return { endpoint, revisions: detailed, rollout, events, windowSeconds: window };
    },

    /**
     * Calls `listener` with the id of an endpoint whose row changed in any process sharing the database
     * (null: changes may have been missed), so a cache of endpoint rows stays true. Returns unsubscribe.
     */
    watchEndpoints(listener: (endpointId: string | null) => void): () => void {
      return deps.db.changes.subscribe('endpoint', listener);
    },

    /** The endpoint a request names by id or by route, for the inference proxy (no role check here). */
    async lookup(projectId: string, key: { id?: string; route?: string }): Promise<EndpointRow | null> {
      return key.id
        ? repos.endpoints.getById(projectId, key.id)
        : repos.endpoints.getByRoute(projectId, key.route ?? '');
    },

    async events(actor: Actor, endpointId: string, afterSeq = 0) {
      const project = requireRole(actor, 'viewer');
      const endpoint = await repos.endpoints.getById(project.id, endpointId);
      if (!endpoint) throw notFound('Serving endpoint', endpointId);
      return repos.revisions.listEvents(endpoint.id, { afterSeq });
    },
  };
}

export type RolloutService = ReturnType<typeof createRolloutService>;
