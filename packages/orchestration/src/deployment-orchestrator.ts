import { createError, type DeploymentOrchestrator } from '@llmops/core';
import {
  DEPLOYMENT_QUERIES,
  DEPLOYMENT_SIGNALS,
  DEPLOYMENT_WORKFLOW_TYPES,
  deploymentWorkflowId,
  teardownWorkflowId,
  TRAINING_TASK_QUEUE,
  type RolloutStatus,
} from '@llmops/spec';
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';

/** Rollouts over Temporal: one `deployment` workflow per revision, one `endpointTeardown` per endpoint. */
export function createTemporalDeploymentOrchestrator(opts: {
  client: Client;
  /** Default TRAINING_TASK_QUEUE; must match the worker's. */
  taskQueue?: string;
  callTimeoutMs?: number;
}): DeploymentOrchestrator {
  const { client } = opts;
  const taskQueue = opts.taskQueue ?? TRAINING_TASK_QUEUE;
  const callTimeoutMs = opts.callTimeoutMs ?? 5_000;

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await client.withDeadline(Date.now() + callTimeoutMs, fn);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        throw createError('CONFLICT', `${what}: the rollout has already ended`);
      if (error instanceof ServiceError || isGrpcServiceError(error))
        throw createError(
          'UNAVAILABLE',
          `The workflow service (Temporal) cannot be reached; try again shortly (${(error as Error).message})`,
        );
      throw error;
    }
  }

  const start = async (type: string, workflowId: string, args: unknown[]) => {
    try {
      await client.workflow.start(type, {
        workflowId,
        taskQueue,
        args,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return; // a duplicate start
      throw error;
    }
  };

  return {
    async startRollout(input) {
      await call('start', () =>
        start(DEPLOYMENT_WORKFLOW_TYPES.deployment, deploymentWorkflowId(input.revisionId), [input]),
      );
    },
    async signalRollout(revisionId, signal, command) {
      await call(signal === 'promote' ? 'promote' : 'rollback', () =>
        client.workflow
          .getHandle(deploymentWorkflowId(revisionId))
          .signal(signal === 'promote' ? DEPLOYMENT_SIGNALS.promote : DEPLOYMENT_SIGNALS.rollback, command),
      );
    },
    async rolloutStatus(revisionId) {
      try {
        return await call('status', () =>
          client.workflow
            .getHandle(deploymentWorkflowId(revisionId))
            .query<RolloutStatus>(DEPLOYMENT_QUERIES.status),
        );
      } catch (error) {
        if ((error as { code?: string }).code === 'CONFLICT') return null;
        throw error;
      }
    },
    async abortRollout(revisionId, reason) {
      try {
        await call('abort', () =>
          client.workflow.getHandle(deploymentWorkflowId(revisionId)).terminate(reason),
        );
      } catch (error) {
        if ((error as { code?: string }).code === 'CONFLICT') return;
        throw error;
      }
    },
    async teardown(endpointId, actor) {
      await call('teardown', () =>
        start(DEPLOYMENT_WORKFLOW_TYPES.endpointTeardown, teardownWorkflowId(endpointId), [
          { endpointId, actor },
        ]),
      );
    },
  };
}
