import { describe, expect, it } from 'vitest';
import { quickstartJob, trainingContext, baseModel } from '../__fixtures__/submissions.ts';
import type { TrainingSubmission } from '../submissions.ts';
import { checkTrainingSubmission, TRAINING_RULES, type TrainingRuleContext } from './training.ts';
import type { RuleCode } from '../codes.ts';

type Case = {
  rule: string;
  code: RuleCode;
  path: string;
  body?: (b: TrainingSubmission) => TrainingSubmission;
  ctx?: (c: TrainingRuleContext) => TrainingRuleContext;
  message?: RegExp;
};

const spec = (
  b: TrainingSubmission,
  patch: Partial<TrainingSubmission['trainJobSpec']>,
): TrainingSubmission => ({
  ...b,
  trainJobSpec: { ...b.trainJobSpec, ...patch },
});

const pretrain = (b: TrainingSubmission): TrainingSubmission => {
  const { modelId: _m, ...rest } = b;
  return {
    ...rest,
    jobType: 'pretrain',
    trainJobSpec: {
      ...b.trainJobSpec,
      job_type: 'PRETRAIN',
      base_model_ref: null,
      method: 'full',
      dataset_ref: { ...b.trainJobSpec.dataset_ref, type: 'pretrain_corpus' },
    },
  };
};

/** One failing case per rule code; each must be reported by exactly the named rule. */
const failing: Case[] = [
  {
    rule: 'submissionKindMatchesJobType',
    code: 'SUBMISSION_KIND_MISMATCH',
    path: 'trainJobSpec.job_type',
    body: (b) => ({ ...b, jobType: 'pretrain' }),
  },
  {
    rule: 'modelFamilyWhitelisted',
    code: 'MODEL_FAMILY_NOT_SUPPORTED',
    path: 'trainJobSpec.model_family',
    body: (b) => spec(b, { model_family: 'xxx' }),
    message: /Model family 'xxx' is not supported/,
  },
  {
    rule: 'familyAllowsJobType',
    code: 'JOB_TYPE_NOT_ALLOWED_FOR_FAMILY',
    path: 'trainJobSpec.job_type',
    body: (b) => spec(b, { model_family: 'bert' }),
  },
  {
    rule: 'datasetTypeMatchesJobType',
    code: 'DATASET_TYPE_INCOMPATIBLE',
    path: 'trainJobSpec.dataset_ref.type',
    body: (b) => spec(b, { dataset_ref: { ...b.trainJobSpec.dataset_ref, type: 'rag_qa' } }),
    message: /Dataset type 'rag_qa' is not compatible with job_type 'SFT' \(expected 'sft_pair'\)/,
  },
  {
    rule: 'baseModelPresence',
    code: 'BASE_MODEL_NOT_ALLOWED',
    path: 'trainJobSpec.base_model_ref',
    body: (b) => ({
      ...pretrain(b),
      trainJobSpec: { ...pretrain(b).trainJobSpec, base_model_ref: 'llama-3-8b-pretrain-v1' },
    }),
  },
  {
    rule: 'baseModelPresence',
    code: 'BASE_MODEL_REQUIRED',
    path: 'trainJobSpec.base_model_ref',
    body: (b) => spec(b, { base_model_ref: null }),
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, baseModel: null } }),
  },
  {
    rule: 'baseModelResolves',
    code: 'BASE_MODEL_NOT_FOUND',
    path: 'trainJobSpec.base_model_ref',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, baseModel: null, modelById: baseModel } }),
  },
  {
    rule: 'baseModelResolves',
    code: 'BASE_MODEL_FAMILY_MISMATCH',
    path: 'trainJobSpec.base_model_ref',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, baseModel: { ...baseModel, modelFamily: 'mistral' } } }),
  },
  {
    rule: 'pretrainOnlyFull',
    code: 'METHOD_NOT_ALLOWED',
    path: 'trainJobSpec.method',
    body: (b) => ({ ...pretrain(b), trainJobSpec: { ...pretrain(b).trainJobSpec, method: 'lora' } }),
  },
  {
    rule: 'maxSeqLenWithinModel',
    code: 'MAX_SEQ_LEN_EXCEEDS_MODEL',
    path: 'trainJobSpec.hyperparams.max_seq_len',
    body: (b) => spec(b, { hyperparams: { ...b.trainJobSpec.hyperparams, max_seq_len: 16384 } }),
    message: /SFT max_seq_len must be <= base_model.max_position_embeddings/,
  },
  {
    rule: 'gpuTypeConfigured',
    code: 'GPU_TYPE_NOT_AVAILABLE',
    path: 'trainJobSpec.resources.gpu_type',
    body: (b) => spec(b, { resources: { ...b.trainJobSpec.resources, gpu_type: 'B200' } }),
  },
  {
    rule: 'useGpuNeedsGpus',
    code: 'GPU_REQUIRED_FOR_USE_GPU',
    path: 'trainJobSpec.resources.gpus',
    body: (b) => spec(b, { resources: { ...b.trainJobSpec.resources, gpus: 0 } }),
  },
  {
    rule: 'resourcesWithinPolicy',
    code: 'RESOURCES_EXCEED_POLICY',
    path: 'trainJobSpec.resources.nodes',
    body: (b) => spec(b, { resources: { ...b.trainJobSpec.resources, nodes: 5 } }),
  },
  {
    rule: 'fitsGpuMemory',
    code: 'FIT_EXCEEDS_GPU_MEMORY',
    path: 'trainJobSpec.resources',
    body: (b) => spec(b, { method: 'full', resources: { gpus: 1, gpu_type: 'T4', nodes: 1 } }),
    message: /Estimated [\d.]+ GiB per GPU .* exceeds the 14.4 GiB usable on T4/,
  },
  {
    rule: 'datasetResolves',
    code: 'DATASET_NOT_FOUND',
    path: 'trainJobSpec.dataset_ref',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, dataset: null } }),
  },
  {
    rule: 'datasetResolves',
    code: 'DATASET_REF_MISMATCH',
    path: 'trainJobSpec.dataset_ref.type',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, dataset: { ...c.lookups.dataset!, type: 'rag_qa' } } }),
  },
  {
    rule: 'modelIdMatches',
    code: 'MODEL_NOT_FOUND',
    path: 'modelId',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, modelById: null } }),
  },
  {
    rule: 'modelIdMatches',
    code: 'MODEL_REF_MISMATCH',
    path: 'modelId',
    ctx: (c) => ({
      ...c,
      lookups: { ...c.lookups, modelById: { ...baseModel, id: 'other', name: 'other' } },
    }),
  },
  {
    rule: 'hpoSearchSpaceValid',
    code: 'HPO_PARAM_NOT_TUNABLE',
    path: 'hpoSpec.search_space.dropout_rate',
    body: (b) => hpo(b, { search_space: { dropout_rate: { type: 'float', low: 0, high: 0.5 } } }),
  },
  {
    rule: 'hpoSearchSpaceValid',
    code: 'HPO_RANGE_INVALID',
    path: 'hpoSpec.search_space.lr',
    body: (b) => hpo(b, { search_space: { lr: { type: 'float', low: 0.1, high: 0.01 } } }),
  },
  {
    rule: 'hpoSearchSpaceValid',
    code: 'HPO_GRID_NOT_DISCRETE',
    path: 'hpoSpec.search_space.lr',
    body: (b) => hpo(b, { algorithm: 'grid' }),
  },
  {
    rule: 'hpoSearchSpaceValid',
    code: 'HPO_PARALLELISM_EXCEEDS_TRIALS',
    path: 'hpoSpec.parallelism',
    body: (b) => hpo(b, { parallelism: 20, max_trials: 10 }),
  },
];

function hpo(b: TrainingSubmission, patch: Record<string, unknown>): TrainingSubmission {
  return {
    ...b,
    jobType: 'hpo',
    hpoSpec: {
      search_space: { lr: { type: 'float', low: 1e-5, high: 1e-3, log: true } },
      algorithm: 'bayesian',
      objective: { metric: 'eval_loss', direction: 'minimize' },
      max_trials: 20,
      parallelism: 2,
      pruning: { policy: 'median' },
      ...patch,
    },
  } as TrainingSubmission;
}

describe('TrainJobSpec rules', () => {
  it('accepts the quickstart §5.1 body', () => {
    expect(checkTrainingSubmission(quickstartJob(), trainingContext())).toEqual([]);
  });

  it('accepts a valid PRETRAIN, an HPO and an RLHF submission', () => {
    const ctx = trainingContext({
      baseModel: null,
      dataset: { ...trainingContext().lookups.dataset!, type: 'pretrain_corpus' },
    });
    expect(
      checkTrainingSubmission(pretrain(quickstartJob()), {
        ...ctx,
        lookups: { ...ctx.lookups, modelById: undefined },
      }),
    ).toEqual([]);
    expect(checkTrainingSubmission(hpo(quickstartJob(), {}), trainingContext())).toEqual([]);
  });

  it.each(failing)('$rule reports $code at $path', (c) => {
    const body = c.body ? c.body(quickstartJob()) : quickstartJob();
    const ctx = c.ctx ? c.ctx(trainingContext()) : trainingContext();
    const all = checkTrainingSubmission(body, ctx);
    const hit = all.find((v) => v.code === c.code);
    expect(hit, JSON.stringify(all)).toBeDefined();
    expect(hit!.path).toBe(c.path);
    if (c.message) expect(hit!.message).toMatch(c.message);
    // The violation comes from the named rule, so deleting that rule makes this case fail.
    const rule = TRAINING_RULES.find((r) => r.name === c.rule)!;
    expect(rule.check(body, ctx).map((v) => v.code)).toContain(c.code);
  });

  it('has a failing case for every code every rule declares', () => {
    const covered = new Set(failing.map((c) => `${c.rule}:${c.code}`));
    for (const rule of TRAINING_RULES)
      for (const code of rule.codes) expect(covered).toContain(`${rule.name}:${code}`);
  });

  it('reports the reward-model dataset type of an rlhf submission', () => {
    const b = quickstartJob();
    const body = {
      ...b,
      jobType: 'rlhf',
      trainJobSpec: {
        ...b.trainJobSpec,
        job_type: 'RLHF',
        dataset_ref: { ...b.trainJobSpec.dataset_ref, type: 'rlhf_pair' },
      },
      rlhfSpec: {
        reward_model: { dataset_ref: { ...b.trainJobSpec.dataset_ref, type: 'sft_pair' }, num_epochs: 1 },
        policy_optimization: { algorithm: 'DPO', beta: 0.1 },
        safety: { suites: ['toxicity'], max_violation_rate: 0.01 },
      },
    } as TrainingSubmission;
    const ctx = trainingContext({ dataset: { ...trainingContext().lookups.dataset!, type: 'rlhf_pair' } });
    const v = checkTrainingSubmission(body, ctx);
    expect(v).toEqual([
      expect.objectContaining({
        code: 'DATASET_TYPE_INCOMPATIBLE',
        path: 'rlhfSpec.reward_model.dataset_ref.type',
      }),
    ]);
  });
});
