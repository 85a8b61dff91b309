import { z } from 'zod';

/**
 * The rollout contract (SPEC C7, docs/decisions/0017-rollouts.md): the `deployment` workflow rolls one
 * revision of an endpoint out — deploy, wait until ready, shift traffic step by step while watching health,
 * roll back automatically when thresholds are crossed — and `endpointTeardown` removes an endpoint's model
 * servers. Both run on the training task queue.
 */
export const DEPLOYMENT_WORKFLOW_TYPES = {
  deployment: 'deployment',
  endpointTeardown: 'endpointTeardown',
} as const;

/** One rollout per revision. */
export function deploymentWorkflowId(revisionId: string): string {
  return `deployment/${revisionId}`;
}

export function teardownWorkflowId(endpointId: string): string {
  return `endpoint-teardown/${endpointId}`;
}

export const DEPLOYMENT_SIGNALS = {
  /** Skip the remaining steps: the new revision takes all traffic now. */
  promote: 'promote',
  /** Put all traffic back on the previous revision and remove the new one. */
  rollback: 'rollback',
} as const;

export const DEPLOYMENT_QUERIES = { status: 'status' } as const;

export const ROLLOUT_MODES = ['blue-green', 'canary', 'shadow', 'ab'] as const;
export const rolloutModeSchema = z.enum(ROLLOUT_MODES);
export type RolloutMode = z.infer<typeof rolloutModeSchema>;

/** Health thresholds of a rollout: crossing one rolls the new revision back. */
export const rolloutAnalysisSchema = z
  .object({
    /** Requests looked at: those of the last windowSeconds. */
    windowSeconds: z.number().int().min(1).max(3600).default(30),
    /** Health is checked this often while traffic is on the new revision. */
    checkIntervalSeconds: z.number().int().min(1).max(600).default(5),
    /** Share of failed requests (5xx, connection errors) above which the new revision is rolled back. */
    maxErrorRate: z.number().min(0).max(1).default(0.2),
    /** No verdict on error rate below this many requests in the window. */
    minRequests: z.number().int().min(1).max(1_000_000).default(10),
    /** p95 latency (ms) above which the new revision is rolled back; null: not checked. */
    maxP95LatencyMs: z.number().int().min(1).nullable().default(null),
  })
  .strict();
export type RolloutAnalysis = z.infer<typeof rolloutAnalysisSchema>;

const actor = z.string().min(1).max(200);

export const deploymentInputSchema = z
  .object({
    endpointId: z.uuid(),
    revisionId: z.uuid(),
    /** The revision serving before this rollout; null for the first deployment of the endpoint. */
    previousRevisionId: z.uuid().nullable(),
    mode: rolloutModeSchema,
    /**
     * Shares (percent) of live traffic given to the new revision, one step after the other; the last step
     * is always 100. Blue-green: [100]. A/B and shadow: the rollout holds at the first step until promoted.
     */
    steps: z.array(z.number().int().min(0).max(100)).min(1).max(20),
    /** How long each step below 100 is watched before the next one (canary). */
    stepSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600),
    /** Blue-green: how long the previous revision stays ready for an instant rollback after the switch. */
    holdPreviousSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600),
    /** A revision not ready within this time has failed. */
    readyTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600),
    analysis: rolloutAnalysisSchema,
    actor,
  })
  .strict();
export type DeploymentInput = z.input<typeof deploymentInputSchema>;
export type ResolvedDeploymentInput = z.output<typeof deploymentInputSchema>;

export const rolloutCommandSchema = z.object({ actor, reason: z.string().max(500).optional() }).strict();
export type RolloutCommand = z.infer<typeof rolloutCommandSchema>;

export const ROLLOUT_PHASES = [
  'deploying',
  'shifting',
  'holding',
  'promoted',
  'rolled_back',
  'failed',
] as const;
export const rolloutPhaseSchema = z.enum(ROLLOUT_PHASES);
export type RolloutPhase = z.infer<typeof rolloutPhaseSchema>;

/** Answer of the `status` query of a deployment workflow. */
export const rolloutStatusSchema = z.object({
  revisionId: z.string(),
  mode: rolloutModeSchema,
  phase: rolloutPhaseSchema,
  /** Index in `steps` of the share now applied (−1 before the first shift). */
  step: z.number().int(),
  steps: z.array(z.number().int()),
  /** Share of live traffic on the new revision now. */
  newTraffic: z.number().int(),
  message: z.string().nullable(),
});
export type RolloutStatus = z.infer<typeof rolloutStatusSchema>;

export const teardownInputSchema = z.object({ endpointId: z.uuid(), actor }).strict();
export type TeardownInput = z.infer<typeof teardownInputSchema>;
