import { SERVE_TARGETS_FOR_JOB, type JobType } from '../enums.ts';
import type { DeploymentSpec } from '../deployment-spec.ts';
import { familyNotSupported } from './training.ts';
import {
  violation,
  type CatalogModelInfo,
  type Rule,
  type RuleContext,
  type RuleViolation,
} from './types.ts';

export interface DeploymentLookups {
  /** The catalog model named by model_ref (null when not found). */
  model: CatalogModelInfo | null;
  /** The training job that produced model_ref, when the platform trained it. */
  producingJob?: { id: string; jobType: JobType; modelFamily: string } | null;
  /** Present when the body carries modelId. */
  modelById?: CatalogModelInfo | null;
}

export interface DeploymentRuleContext extends RuleContext {
  lookups: DeploymentLookups;
}

type DeploymentRule = Rule<DeploymentSpec, DeploymentRuleContext>;
const P = 'deploymentSpec';
const ok: RuleViolation[] = [];

export const serveTargetMatchesJobType: DeploymentRule = {
  name: 'serveTargetMatchesJobType',
  codes: ['SERVE_TARGET_INCOMPATIBLE'],
  check(spec) {
    const allowed = SERVE_TARGETS_FOR_JOB[spec.job_type];
    return allowed.includes(spec.serve_target)
      ? ok
      : [
          violation(
            'SERVE_TARGET_INCOMPATIBLE',
            `${P}.serve_target`,
            `Serve target '${spec.serve_target}' is not compatible with job_type '${spec.job_type}' (expected ${allowed.join(' or ')})`,
          ),
        ];
  },
};

export const deploymentFamilyWhitelisted: DeploymentRule = {
  name: 'deploymentFamilyWhitelisted',
  codes: ['MODEL_FAMILY_NOT_SUPPORTED'],
  check(spec, ctx) {
    return ctx.families[spec.model_family]
      ? ok
      : [familyNotSupported(spec.model_family, `${P}.model_family`, ctx)];
  },
};

export const modelRefResolves: DeploymentRule = {
  name: 'modelRefResolves',
  codes: [
    'MODEL_REF_NOT_FOUND',
    'DEPLOYMENT_FAMILY_MISMATCH',
    'DEPLOYMENT_JOB_TYPE_MISMATCH',
    'MODEL_NOT_FOUND',
  ],
  check(spec, ctx) {
    const { model, producingJob, modelById } = ctx.lookups;
    const out: RuleViolation[] = [];
    if (modelById === null)
      out.push(
        violation('MODEL_NOT_FOUND', 'modelId', "modelId does not name a model in this project's catalog"),
      );
    if (!model) {
      out.push(
        violation(
          'MODEL_REF_NOT_FOUND',
          `${P}.model_ref`,
          `Model '${spec.model_ref}' is not in this project's catalog (train it or register it first)`,
        ),
      );
      return out;
    }
    if (model.modelFamily !== spec.model_family)
      out.push(
        violation(
          'DEPLOYMENT_FAMILY_MISMATCH',
          `${P}.model_family`,
          `model_family '${spec.model_family}' does not match model '${model.name}' (family '${model.modelFamily}')`,
        ),
      );
    if (producingJob && producingJob.jobType !== spec.job_type)
      out.push(
        violation(
          'DEPLOYMENT_JOB_TYPE_MISMATCH',
          `${P}.job_type`,
          `job_type '${spec.job_type}' does not match the training job ${producingJob.id} that produced '${model.name}' (${producingJob.jobType})`,
        ),
      );
    if (producingJob && producingJob.modelFamily !== spec.model_family)
      out.push(
        violation(
          'DEPLOYMENT_FAMILY_MISMATCH',
          `${P}.model_family`,
          `model_family '${spec.model_family}' does not match the training job ${producingJob.id} (family '${producingJob.modelFamily}')`,
        ),
      );
    // modelId picks one version of model_ref; a model of another name is a contradiction.
    if (modelById && modelById.name !== model.name)
      out.push(
        violation(
          'DEPLOYMENT_FAMILY_MISMATCH',
          'modelId',
          `modelId names '${modelById.name}' but model_ref is '${spec.model_ref}'`,
        ),
      );
    return out;
  },
};

export const maxInputTokensWithinModel: DeploymentRule = {
  name: 'maxInputTokensWithinModel',
  codes: ['MAX_INPUT_TOKENS_EXCEEDS_MODEL'],
  check(spec, ctx) {
    const model = ctx.lookups.model;
    if (!model || spec.runtime.max_input_tokens <= model.maxPositionEmbeddings) return ok;
    return [
      violation(
        'MAX_INPUT_TOKENS_EXCEEDS_MODEL',
        `${P}.runtime.max_input_tokens`,
        `max_input_tokens must be <= model.max_position_embeddings (${spec.runtime.max_input_tokens} > ${model.maxPositionEmbeddings} for '${model.name}')`,
      ),
    ];
  },
};

export const rolloutTrafficSplit: DeploymentRule = {
  name: 'rolloutTrafficSplit',
  codes: ['TRAFFIC_SPLIT_REQUIRED', 'TRAFFIC_SPLIT_SUM', 'TRAFFIC_SPLIT_NOT_APPLICABLE'],
  check(spec) {
    const { strategy, traffic_split: split } = spec.rollout;
    const path = `${P}.rollout.traffic_split`;
    if (strategy === 'canary' && !split)
      return [violation('TRAFFIC_SPLIT_REQUIRED', path, 'canary rollouts need traffic_split {old, new}')];
    if (strategy === 'blue-green' && split)
      return [
        violation(
          'TRAFFIC_SPLIT_NOT_APPLICABLE',
          path,
          'blue-green switches all traffic at once; remove traffic_split or use canary',
        ),
      ];
    if (split && split.old + split.new !== 100)
      return [
        violation(
          'TRAFFIC_SPLIT_SUM',
          path,
          `traffic_split must sum to 100 (old ${split.old} + new ${split.new} = ${split.old + split.new})`,
        ),
      ];
    return ok;
  },
};

export const gpuMemoryAvailable: DeploymentRule = {
  name: 'gpuMemoryAvailable',
  codes: ['GPU_MEMORY_UNAVAILABLE', 'GPU_REQUIRED_FOR_USE_GPU'],
  check(spec, ctx) {
    const { gpus, gpu_memory_gb: mem } = spec.resources;
    if (spec.use_gpu && gpus === 0)
      return [
        violation(
          'GPU_REQUIRED_FOR_USE_GPU',
          `${P}.resources.gpus`,
          'use_gpu is true but resources.gpus is 0',
        ),
      ];
    if (gpus === 0) return ok;
    const largest = Math.max(0, ...ctx.gpuTypes.map((g) => g.memoryGib));
    return mem <= largest
      ? ok
      : [
          violation(
            'GPU_MEMORY_UNAVAILABLE',
            `${P}.resources.gpu_memory_gb`,
            `gpu_memory_gb ${mem} exceeds the largest GPU configured in '${ctx.environment}' (${largest} GiB)`,
          ),
        ];
  },
};

export const DEPLOYMENT_RULES: readonly DeploymentRule[] = [
  serveTargetMatchesJobType,
  deploymentFamilyWhitelisted,
  modelRefResolves,
  maxInputTokensWithinModel,
  rolloutTrafficSplit,
  gpuMemoryAvailable,
];

export function checkDeploymentSpec(spec: DeploymentSpec, ctx: DeploymentRuleContext): RuleViolation[] {
  return DEPLOYMENT_RULES.flatMap((rule) => rule.check(spec, ctx));
}

export type { RuleContext };
