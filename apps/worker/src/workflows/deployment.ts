import {
  DEPLOYMENT_QUERIES,
  DEPLOYMENT_SIGNALS,
  deploymentInputSchema,
  teardownInputSchema,
  type DeploymentInput,
  type RolloutCommand,
  type RolloutStatus,
  type TeardownInput,
} from '@llmops/spec/workflows';
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export const promoteSignal = defineSignal<[RolloutCommand]>(DEPLOYMENT_SIGNALS.promote);
export const rollbackSignal = defineSignal<[RolloutCommand]>(DEPLOYMENT_SIGNALS.rollback);
export const rolloutStatusQuery = defineQuery<RolloutStatus>(DEPLOYMENT_QUERIES.status);

const WORKFLOW = 'system:rollout';

// Database and backend calls: retried without limit (an outage delays a rollout, it never half-applies one).
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

function messageOf(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Rolls one revision of an endpoint out (SPEC C7): deploy it, wait until it is ready, then move live
 * traffic to it step by step — blue-green in one switch, canary by its steps, A/B split by caller, shadow
 * with copies only — watching its health the whole time. Crossing a threshold, or a `rollback` signal, puts
 * all traffic back on the previous revision and removes the new one; `promote` skips to 100 %. The
 * previous revision keeps serving until the new one has proven itself.
 */
export async function deployment(rawInput: DeploymentInput): Promise<RolloutStatus> {
  const parsed = deploymentInputSchema.safeParse(rawInput);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `invalid deployment input: ${parsed.error.message}`,
      'InvalidInput',
    );
  const input = parsed.data;
  const { endpointId, revisionId, previousRevisionId: previous, analysis } = input;
  const steps = previous === null ? [100] : input.steps.at(-1) === 100 ? input.steps : [...input.steps, 100];

  const st: RolloutStatus = {
    revisionId,
    mode: input.mode,
    phase: 'deploying',
    step: -1,
    steps,
    newTraffic: 0,
    message: null,
  };
  let command: { kind: 'promote' | 'rollback'; actor: string; reason: string | null } | null = null;
  setHandler(promoteSignal, (c) => {
    command ??= { kind: 'promote', actor: c.actor, reason: c.reason ?? null };
  });
  setHandler(rollbackSignal, (c) => {
    command ??= { kind: 'rollback', actor: c.actor, reason: c.reason ?? null };
  });
  setHandler(rolloutStatusQuery, () => st);

  await acts.beginRollout({ endpointId, revisionId, first: previous === null, actor: input.actor });
  const deployed = await acts.deployRevision({ endpointId, revisionId });
  const ready =
    deployed.state === 'failed'
      ? { ready: false, message: deployed.message ?? 'the serving backend refused the revision' }
      : await acts.waitRevisionReady({ endpointId, revisionId, timeoutSeconds: input.readyTimeoutSeconds });
  if (!ready.ready) {
    st.phase = 'failed';
    st.message = ready.message;
    await acts.finishRollout({
      endpointId,
      revisionId,
      previousRevisionId: previous,
      outcome: 'failed',
      message: ready.message,
      actor: WORKFLOW,
    });
    return st;
  }

  /** Puts everything back on the previous revision and removes the new one. */
  const rollBack = async (reason: string, actor: string): Promise<RolloutStatus> => {
    if (previous)
      await acts.applyTraffic({
        endpointId,
        weights: { [previous]: 100 },
        shadowId: null,
        reason: `rollback: ${reason}`,
        actor,
      });
    st.phase = 'rolled_back';
    st.newTraffic = 0;
    st.message = reason;
    await acts.finishRollout({
      endpointId,
      revisionId,
      previousRevisionId: previous,
      outcome: 'rolled_back',
      message: reason,
      actor,
    });
    return st;
  };

  /**
   * Watches the new revision for `seconds` (forever when null), checking health every interval; ends early
   * on a signal. Returns why it stopped.
   */
  const watch = async (
    seconds: number | null,
  ): Promise<{ kind: 'elapsed' } | { kind: 'unhealthy'; reason: string } | { kind: 'command' }> => {
    const deadline = seconds === null ? null : Date.now() + seconds * 1000;
    for (;;) {
      const left = deadline === null ? Infinity : deadline - Date.now();
      if (left <= 0) return { kind: 'elapsed' };
      const wait = Math.min(left, analysis.checkIntervalSeconds * 1000);
      if (await condition(() => command !== null, wait)) return { kind: 'command' };
      const verdict = await acts.checkRevisionHealth({ endpointId, revisionId, analysis });
      if (!verdict.healthy) return { kind: 'unhealthy', reason: verdict.reason ?? 'unhealthy' };
    }
  };

  for (let i = 0; i < steps.length; i++) {
    const share = steps[i]!;
    st.step = i;
    st.phase = 'shifting';
    const shadow = input.mode === 'shadow' && share === 0;
    const weights: Record<string, number> =
      previous === null || share === 100
        ? { [revisionId]: 100 }
        : share === 0
          ? { [previous]: 100 }
          : { [previous]: 100 - share, [revisionId]: share };
    await acts.applyTraffic({
      endpointId,
      weights,
      shadowId: shadow ? revisionId : null,
      reason: shadow
        ? 'shadow: the new revision receives a copy of every request; its answers are discarded'
        : `${input.mode}: ${share}% of live traffic on the new revision`,
      actor: WORKFLOW,
    });
    st.newTraffic = share;
    if (share === 100) break;

    st.phase = 'holding';
    // Canary steps advance on their own; A/B and shadow hold until someone decides.
    const hold = input.mode === 'canary' ? input.stepSeconds : null;
    const outcome = await watch(hold);
    if (outcome.kind === 'unhealthy') return rollBack(outcome.reason, WORKFLOW);
    if (outcome.kind === 'command') {
      const c = command!;
      if (c.kind === 'rollback') return rollBack(c.reason ?? `rolled back by ${c.actor}`, c.actor);
      // promote: straight to the last step.
      i = steps.length - 2;
      command = null;
    }
  }

  // The new revision has all live traffic. Blue-green (and every switch with a previous revision) keeps the
  // previous one ready for an instant rollback while the new one is watched.
  if (previous !== null && input.holdPreviousSeconds > 0) {
    st.phase = 'holding';
    await acts.recordEndpointEvent({
      endpointId,
      revisionId: previous,
      type: 'revision.standby',
      message: `previous revision kept ready for ${input.holdPreviousSeconds} s for an instant rollback`,
      actor: WORKFLOW,
    });
    const outcome = await watch(input.holdPreviousSeconds);
    if (outcome.kind === 'unhealthy') return rollBack(outcome.reason, WORKFLOW);
    if (outcome.kind === 'command' && command!.kind === 'rollback') {
      const c = command!;
      return rollBack(c.reason ?? `rolled back by ${c.actor}`, c.actor);
    }
  }
  st.phase = 'promoted';
  st.message = null;
  await acts.finishRollout({
    endpointId,
    revisionId,
    previousRevisionId: previous,
    outcome: 'promoted',
    message: null,
    actor: WORKFLOW,
  });
  return st;
}

/** Removes every model server of an endpoint; the endpoint and its history stay, marked DELETED. */
export async function endpointTeardown(rawInput: TeardownInput): Promise<void> {
  const parsed = teardownInputSchema.safeParse(rawInput);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(`invalid teardown input: ${parsed.error.message}`, 'InvalidInput');
  try {
    await acts.teardownEndpoint(parsed.data);
  } catch (e) {
    throw ApplicationFailure.nonRetryable(`teardown failed: ${messageOf(e)}`, 'TeardownFailed');
  }
}
