import { z } from 'zod';
import { deploymentSpecSchema } from './deployment-spec.ts';
import { rolloutAnalysisSchema, rolloutModeSchema, rolloutStatusSchema } from './deployment-workflow.ts';

const iso = z.string().describe('ISO 8601 timestamp');

/** `POST /serving/endpoints/{endpointId}/rollouts`: a new model version (or spec) for a serving endpoint. */
export const rolloutRequestSchema = z
  .object({
    modelId: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Catalog model (a version of deploymentSpec.model_ref); default: its latest version'),
    deploymentSpec: deploymentSpecSchema
      .optional()
      .describe("Replaces the endpoint's DeploymentSpec for this revision; checked by the same rules"),
    mode: rolloutModeSchema
      .optional()
      .describe('blue-green, canary, shadow or ab; default: deploymentSpec.rollout.strategy'),
    steps: z
      .array(z.number().int().min(0).max(100))
      .min(1)
      .max(20)
      .optional()
      .describe('Shares (%) of live traffic on the new revision, increasing; 100 is added at the end'),
    stepSeconds: z.number().int().min(1).max(604_800).optional(),
    holdPreviousSeconds: z.number().int().min(0).max(604_800).optional(),
    readyTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    analysis: rolloutAnalysisSchema.partial().optional(),
    replicas: z.number().int().min(1).max(16).optional(),
  })
  .strict()
  .meta({ id: 'RolloutRequest' });
export type RolloutRequest = z.infer<typeof rolloutRequestSchema>;

export const scaleRequestSchema = z
  .object({ replicas: z.number().int().min(1).max(16).describe('Model server replicas of the endpoint') })
  .strict()
  .meta({ id: 'ScaleRequest' });

export const endpointRollbackRequestSchema = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .meta({ id: 'EndpointRollbackRequest' });

export const endpointRevisionSchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    modelId: z.string().nullable(),
    modelRef: z.string(),
    modelVersion: z.string(),
    mode: rolloutModeSchema,
    state: z.string(),
    traffic: z.number().int(),
    shadow: z.boolean(),
    replicas: z.number().int(),
    message: z.string().nullable(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'EndpointRevision' });

export const endpointEventSchema = z
  .object({
    seq: z.number().int(),
    revisionId: z.string().nullable(),
    type: z.string(),
    message: z.string(),
    detail: z.record(z.string(), z.unknown()),
    actor: z.string(),
    at: iso,
  })
  .meta({ id: 'EndpointEvent' });

export const revisionHealthSchema = z.object({
  requests: z.number().int(),
  errors: z.number().int(),
  errorRate: z.number(),
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
});

export const endpointStatusSchema = z
  .object({
    endpointId: z.string(),
    status: z.string(),
    revisions: z.array(
      endpointRevisionSchema.extend({
        backend: z
          .object({
            state: z.string(),
            message: z.string().nullable(),
            replicas: z.array(
              z.object({
                id: z.string(),
                state: z.string(),
                url: z.string().nullable(),
                message: z.string().nullable(),
                restarts: z.number().int(),
              }),
            ),
          })
          .nullable()
          .describe("The serving backend's view: replicas and their health; null when not deployed"),
        health: revisionHealthSchema
          .nullable()
          .describe('Requests through the platform over the last windowSeconds'),
      }),
    ),
    rollout: rolloutStatusSchema.nullable().describe('The rollout under way, when there is one'),
    events: z.array(endpointEventSchema),
    windowSeconds: z.number().int(),
  })
  .meta({ id: 'EndpointStatus' });

/** Errors of the OpenAI-compatible inference routes, in the OpenAI wire format. */
export const inferenceErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      code: z.string().nullable(),
      param: z.string().nullable().optional(),
    }),
  })
  .meta({ id: 'InferenceError' });
