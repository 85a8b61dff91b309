import {
  ADMISSION_SIGNALS,
  admissionWorkflowId,
  WORKFLOW_TYPES,
  type AdmissionConfig,
  type AdmissionEnqueue,
  type AdmissionInput,
} from '@llmops/spec';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ActivityDeps } from './types.ts';

/**
 * Signals the admission workflow of `taskQueue`, starting it when it does not run yet. A workflow cannot
 * signal-with-start another one, hence these activities.
 */
export async function signalAdmission(
  client: Client,
  taskQueue: string,
  config: AdmissionConfig,
  signal: string,
  payload: unknown,
): Promise<void> {
  await client.workflow.signalWithStart(WORKFLOW_TYPES.admission, {
    workflowId: admissionWorkflowId(taskQueue),
    taskQueue,
    args: [{ config, state: null } satisfies AdmissionInput],
    signal,
    signalArgs: [payload],
  });
}

export function createAdmissionActivities(
  deps: Pick<ActivityDeps, 'client'> & { admission: AdmissionConfig },
) {
  const { client } = deps;
  return {
    async enqueueForAdmission(input: AdmissionEnqueue): Promise<void> {
      const taskQueue = Context.current().info.taskQueue;
      await signalAdmission(client, taskQueue, deps.admission, ADMISSION_SIGNALS.enqueue, input);
    },

    /** Which of these job workflows are no longer open (ended without releasing their capacity). */
    async findClosedJobWorkflows(input: { jobIds: string[] }): Promise<string[]> {
      const closed: string[] = [];
      for (const jobId of input.jobIds) {
        try {
          const d = await client.workflow.getHandle(jobId).describe();
          if (d.status.name !== 'RUNNING') closed.push(jobId);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) closed.push(jobId);
          else throw error;
        }
        Context.current().heartbeat();
      }
      return closed;
    },
  };
}
