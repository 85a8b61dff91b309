import type { DeploymentInput, RolloutCommand, RolloutStatus } from '@llmops/spec';

/**
 * Drives rollouts through their durable workflow (packages/orchestration implements it over Temporal).
 * Errors are LlmopsErrors (CONFLICT, NOT_FOUND, UNAVAILABLE) rendered by the HTTP layer like any other.
 */
export interface DeploymentOrchestrator {
  /** Idempotent: the workflow id is derived from the revision id. */
  startRollout(input: DeploymentInput): Promise<void>;
  signalRollout(revisionId: string, signal: 'promote' | 'rollback', command: RolloutCommand): Promise<void>;
  /** What the rollout workflow reports; null when it has no workflow (or it ended long ago). */
  rolloutStatus(revisionId: string): Promise<RolloutStatus | null>;
  /** Stops a rollout where it is (the endpoint is being deleted). No-op when it already ended. */
  abortRollout(revisionId: string, reason: string): Promise<void>;
  /** Starts the removal of every model server of the endpoint. Idempotent. */
  teardown(endpointId: string, actor: string): Promise<void>;
}
