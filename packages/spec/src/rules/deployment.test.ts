import { describe, expect, it } from 'vitest';
import { deploymentContext, quickstartDeployment, baseModel } from '../__fixtures__/submissions.ts';
import type { DeploymentSpec } from '../deployment-spec.ts';
import type { RuleCode } from '../codes.ts';
import { checkDeploymentSpec, DEPLOYMENT_RULES, type DeploymentRuleContext } from './deployment.ts';
import { evalThresholdsValid } from './eval.ts';

type Case = {
  rule: string;
  code: RuleCode;
  path: string;
  spec?: (s: DeploymentSpec) => DeploymentSpec;
  ctx?: (c: DeploymentRuleContext) => DeploymentRuleContext;
  message?: RegExp;
};

const failing: Case[] = [
  {
    rule: 'serveTargetMatchesJobType',
    code: 'SERVE_TARGET_INCOMPATIBLE',
    path: 'deploymentSpec.serve_target',
    spec: (s) => ({ ...s, serve_target: 'RAG' }),
    message: /Serve target 'RAG' is not compatible with job_type 'SFT'/,
  },
  {
    rule: 'deploymentFamilyWhitelisted',
    code: 'MODEL_FAMILY_NOT_SUPPORTED',
    path: 'deploymentSpec.model_family',
    spec: (s) => ({ ...s, model_family: 'xxx' }),
  },
  {
    rule: 'modelRefResolves',
    code: 'MODEL_REF_NOT_FOUND',
    path: 'deploymentSpec.model_ref',
    ctx: (c) => ({ ...c, lookups: { model: null } }),
  },
  {
    rule: 'modelRefResolves',
    code: 'MODEL_NOT_FOUND',
    path: 'modelId',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, modelById: null } }),
  },
  {
    rule: 'modelRefResolves',
    code: 'DEPLOYMENT_FAMILY_MISMATCH',
    path: 'deploymentSpec.model_family',
    spec: (s) => ({ ...s, model_family: 'mistral' }),
  },
  {
    rule: 'modelRefResolves',
    code: 'DEPLOYMENT_FAMILY_MISMATCH',
    path: 'modelId',
    ctx: (c) => ({
      ...c,
      lookups: { ...c.lookups, modelById: { ...c.lookups.model!, id: 'other', name: 'another-model' } },
    }),
  },
  {
    rule: 'modelRefResolves',
    code: 'DEPLOYMENT_JOB_TYPE_MISMATCH',
    path: 'deploymentSpec.job_type',
    ctx: (c) => ({
      ...c,
      lookups: { ...c.lookups, producingJob: { id: 'job-9', jobType: 'RLHF', modelFamily: 'llama' } },
    }),
  },
  {
    rule: 'maxInputTokensWithinModel',
    code: 'MAX_INPUT_TOKENS_EXCEEDS_MODEL',
    path: 'deploymentSpec.runtime.max_input_tokens',
    ctx: (c) => ({ ...c, lookups: { ...c.lookups, model: { ...baseModel, maxPositionEmbeddings: 2048 } } }),
  },
  {
    rule: 'rolloutTrafficSplit',
    code: 'TRAFFIC_SPLIT_REQUIRED',
    path: 'deploymentSpec.rollout.traffic_split',
    spec: (s) => ({ ...s, rollout: { strategy: 'canary' } }),
  },
  {
    rule: 'rolloutTrafficSplit',
    code: 'TRAFFIC_SPLIT_SUM',
    path: 'deploymentSpec.rollout.traffic_split',
    spec: (s) => ({ ...s, rollout: { strategy: 'canary', traffic_split: { old: 90, new: 20 } } }),
  },
  {
    rule: 'rolloutTrafficSplit',
    code: 'TRAFFIC_SPLIT_NOT_APPLICABLE',
    path: 'deploymentSpec.rollout.traffic_split',
    spec: (s) => ({ ...s, rollout: { strategy: 'blue-green', traffic_split: { old: 0, new: 100 } } }),
  },
  {
    rule: 'gpuMemoryAvailable',
    code: 'GPU_MEMORY_UNAVAILABLE',
    path: 'deploymentSpec.resources.gpu_memory_gb',
    spec: (s) => ({ ...s, resources: { gpus: 1, gpu_memory_gb: 96 } }),
  },
  {
    rule: 'gpuMemoryAvailable',
    code: 'GPU_REQUIRED_FOR_USE_GPU',
    path: 'deploymentSpec.resources.gpus',
    spec: (s) => ({ ...s, resources: { gpus: 0, gpu_memory_gb: 0 } }),
  },
];

describe('DeploymentSpec rules', () => {
  it('accepts the quickstart §5.2 deploymentSpec', () => {
    expect(checkDeploymentSpec(quickstartDeployment(), deploymentContext())).toEqual([]);
  });

  it('accepts blue-green without traffic_split and a RAG target for RAG_TUNING', () => {
    const s: DeploymentSpec = { ...quickstartDeployment(), rollout: { strategy: 'blue-green' } };
    expect(checkDeploymentSpec(s, deploymentContext())).toEqual([]);
    const rag: DeploymentSpec = { ...s, job_type: 'RAG_TUNING', serve_target: 'RAG' };
    expect(checkDeploymentSpec(rag, deploymentContext({ producingJob: null }))).toEqual([]);
  });

  it.each(failing)('$rule reports $code at $path', (c) => {
    const spec = c.spec ? c.spec(quickstartDeployment()) : quickstartDeployment();
    const ctx = c.ctx ? c.ctx(deploymentContext()) : deploymentContext();
    const hit = checkDeploymentSpec(spec, ctx).find((v) => v.code === c.code);
    expect(hit).toBeDefined();
    expect(hit!.path).toBe(c.path);
    if (c.message) expect(hit!.message).toMatch(c.message);
    const rule = DEPLOYMENT_RULES.find((r) => r.name === c.rule)!;
    expect(rule.check(spec, ctx).map((v) => v.code)).toContain(c.code);
  });

  it('accepts a modelId that names another version of model_ref', () => {
    const ctx = deploymentContext();
    const v2 = { ...ctx.lookups.model!, id: 'model-v2' };
    expect(
      checkDeploymentSpec(quickstartDeployment(), { ...ctx, lookups: { ...ctx.lookups, modelById: v2 } }),
    ).toEqual([]);
  });

  it('has a failing case for every code every rule declares', () => {
    const covered = new Set(failing.map((c) => `${c.rule}:${c.code}`));
    for (const rule of DEPLOYMENT_RULES)
      for (const code of rule.codes) expect(covered).toContain(`${rule.name}:${code}`);
  });
});

describe('eval rules', () => {
  const spec = {
    model_version: 'm@staging',
    suites: [{ name: 'mmlu' }],
    thresholds: { accuracy: { min: 0.5 } },
  };
  it('accepts thresholds with min or max', () => {
    expect(evalThresholdsValid.check(spec, undefined)).toEqual([]);
  });
  it.each([{}, { min: 0.9, max: 0.1 }])('EVAL_THRESHOLD_EMPTY for %j', (t) => {
    const v = evalThresholdsValid.check({ ...spec, thresholds: { accuracy: t } }, undefined);
    expect(v).toEqual([
      expect.objectContaining({ code: 'EVAL_THRESHOLD_EMPTY', path: 'evalSpec.thresholds.accuracy' }),
    ]);
  });
});
