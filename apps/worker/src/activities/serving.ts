import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { judgeHealth, revisionDeploymentOf, type HealthVerdict, type ServingRuntime } from '@llmops/core';
import { LIVE_REVISION_STATES, type Db } from '@llmops/db';
import type { RolloutAnalysis } from '@llmops/spec';

export interface ServingActivityDeps {
  db: Db;
  /** Absent when this worker does not serve: serving activities then fail without retry, saying so. */
  serving?: ServingRuntime | undefined;
}

type Outcome = 'promoted' | 'rolled_back' | 'failed';

/** The rollout and teardown activities (apps/worker/src/workflows/deployment.ts). */
export function createServingActivities(deps: ServingActivityDeps) {
  const { repos } = deps.db;

  function runtime(): ServingRuntime {
    if (!deps.serving)
      throw ApplicationFailure.nonRetryable(
        'this worker has no serving backend configured; rollouts need a worker started with one',
        'ServingUnavailable',
      );
    return deps.serving;
  }

  async function revisionOf(revisionId: string) {
    const rev = await repos.revisions.getById(revisionId);
    if (!rev) throw ApplicationFailure.nonRetryable(`revision ${revisionId} not found`, 'NotFound');
    return rev;
  }

  async function event(input: {
    endpointId: string;
    revisionId?: string | null;
    type: string;
    message: string;
    detail?: Record<string, unknown>;
    actor: string;
  }) {
    await repos.revisions.appendEvent(input);
  }

  return {
    async beginRollout(input: { endpointId: string; revisionId: string; first: boolean; actor: string }) {
      const rev = await revisionOf(input.revisionId);
      if (rev.state !== 'pending') return; // a retry of this activity
      await deps.db.sql.transaction(async () => {
        await repos.revisions.update(rev.id, { state: 'deploying' });
        await repos.endpoints.setStatus(input.endpointId, input.first ? 'DEPLOYING' : 'ROLLING_OUT');
        await event({
          endpointId: input.endpointId,
          revisionId: rev.id,
          type: 'rollout.started',
          message: `revision ${rev.seq} (${rev.modelRef} v${rev.modelVersion}) is being deployed (${rev.mode})`,
          detail: { mode: rev.mode, replicas: rev.replicas },
          actor: input.actor,
        });
      });
    },

    async deployRevision(input: { endpointId: string; revisionId: string }) {
      const { driver } = runtime();
      const d = await revisionDeploymentOf(deps.db, await revisionOf(input.revisionId));
      if (!d) throw ApplicationFailure.nonRetryable(`endpoint ${input.endpointId} not found`, 'NotFound');
      try {
        const status = await driver.deploy(d);
        return { state: status.state, message: status.message };
      } catch (e) {
        // A refusal that no retry can change (an invalid object, a name taken, a rollout the backend cannot
        // hold) fails this revision; anything else is retried by Temporal.
        if ((e as { retryable?: unknown }).retryable === false)
          return {
            state: 'failed' as const,
            message: `the serving backend refused the revision: ${(e as Error).message}`,
          };
        throw e;
      }
    },

    /** Polls the backend until the revision is ready or failed; heartbeats so a lost worker is noticed. */
    async waitRevisionReady(input: { endpointId: string; revisionId: string; timeoutSeconds: number }) {
      const { driver } = runtime();
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      for (;;) {
        const s = await driver.status(input.endpointId, input.revisionId);
        heartbeat({ state: s.state });
        if (s.state === 'ready') {
          await repos.revisions.update(input.revisionId, { state: 'ready', message: null });
          await event({
            endpointId: input.endpointId,
            revisionId: input.revisionId,
            type: 'revision.ready',
            message: `${s.replicas.filter((r) => r.state === 'ready').length} replica(s) ready`,
            actor: 'system:serving',
          });
          return { ready: true, message: null };
        }
        if (s.state === 'failed' || s.state === 'removed')
          return { ready: false, message: s.message ?? `the revision is ${s.state}` };
        if (Date.now() > deadline)
          return {
            ready: false,
            message: `not ready after ${input.timeoutSeconds} s${s.message ? `: ${s.message}` : ''}`,
          };
        await sleep(1000);
      }
    },

    async applyTraffic(input: {
      endpointId: string;
      weights: Record<string, number>;
      shadowId: string | null;
      reason: string;
      actor: string;
    }) {
      const { driver, router } = runtime();
      await driver.setTraffic(input.endpointId, input.weights);
      await deps.db.sql.transaction(async () => {
        const rows = await repos.revisions.setTraffic(input.endpointId, input.weights, input.shadowId);
        for (const r of rows) {
          const routed = r.traffic > 0 || r.shadow;
          if (routed && r.state !== 'serving') await repos.revisions.update(r.id, { state: 'serving' });
          // A revision that served and lost its traffic stays up, ready to take it back at once.
          if (!routed && r.state === 'serving') await repos.revisions.update(r.id, { state: 'standby' });
        }
        await event({
          endpointId: input.endpointId,
          type: 'traffic.changed',
          message: input.reason,
          detail: { weights: input.weights, shadow: input.shadowId },
          actor: input.actor,
        });
      });
      router.invalidate(input.endpointId);
    },

    async checkRevisionHealth(input: {
      endpointId: string;
      revisionId: string;
      analysis: RolloutAnalysis;
    }): Promise<HealthVerdict> {
      const { driver, telemetry } = runtime();
      const status = await driver.status(input.endpointId, input.revisionId);
      const verdict = judgeHealth(
        status,
        telemetry.stats(input.revisionId, input.analysis.windowSeconds),
        input.analysis,
      );
      if (!verdict.healthy)
        await event({
          endpointId: input.endpointId,
          revisionId: input.revisionId,
          type: 'revision.unhealthy',
          message: verdict.reason!,
          detail: { ...verdict.stats },
          actor: 'system:health',
        });
      return verdict;
    },

    async recordEndpointEvent(input: {
      endpointId: string;
      revisionId: string | null;
      type: string;
      message: string;
      actor: string;
    }) {
      await event(input);
    },

    /**
     * Ends a rollout: the losing revision is removed from the backend, the states say who serves, and the
     * endpoint is READY (or FAILED when nothing serves).
     */
    async finishRollout(input: {
      endpointId: string;
      revisionId: string;
      previousRevisionId: string | null;
      outcome: Outcome;
      message: string | null;
      actor: string;
    }) {
      const { driver, router, telemetry } = runtime();
      const loser = input.outcome === 'promoted' ? input.previousRevisionId : input.revisionId;
      if (loser) {
        await driver.remove(input.endpointId, loser);
        telemetry.forget(loser);
      }
      await deps.db.sql.transaction(async () => {
        if (input.outcome === 'promoted') {
          await repos.revisions.update(input.revisionId, { state: 'serving', message: null });
          if (input.previousRevisionId)
            await repos.revisions.update(input.previousRevisionId, { state: 'retired' });
        } else {
          await repos.revisions.update(input.revisionId, {
            state: input.outcome === 'failed' ? 'failed' : 'rolled_back',
            traffic: 0,
            shadow: false,
            message: input.message,
          });
          if (input.previousRevisionId)
            await repos.revisions.update(input.previousRevisionId, { state: 'serving' });
        }
        const serving = input.outcome === 'promoted' || input.previousRevisionId !== null;
        await repos.endpoints.setStatus(input.endpointId, serving ? 'READY' : 'FAILED');
        await event({
          endpointId: input.endpointId,
          revisionId: input.revisionId,
          type: `rollout.${input.outcome}`,
          message:
            input.outcome === 'promoted'
              ? 'the new revision serves all traffic'
              : `${input.outcome === 'failed' ? 'the new revision failed' : 'rolled back'}: ${input.message ?? ''}${
                  input.previousRevisionId ? '; the previous revision keeps serving' : ''
                }`,
          actor: input.actor,
        });
      });
      router.invalidate(input.endpointId);
    },

    async teardownEndpoint(input: { endpointId: string; actor: string }) {
      const { driver, router, telemetry } = runtime();
      const revisions = await repos.revisions.listByEndpoint(input.endpointId);
      await repos.revisions.setTraffic(input.endpointId, {}, null);
      router.invalidate(input.endpointId);
      for (const r of revisions.filter((r) => LIVE_REVISION_STATES.includes(r.state))) {
        await driver.remove(input.endpointId, r.id);
        telemetry.forget(r.id);
        await repos.revisions.update(r.id, { state: 'removed' });
      }
      await repos.endpoints.setStatus(input.endpointId, 'DELETED');
      await event({
        endpointId: input.endpointId,
        type: 'endpoint.deleted',
        message: 'every model server of the endpoint was stopped',
        actor: input.actor,
      });
    },
  };
}

export type ServingActivities = ReturnType<typeof createServingActivities>;
