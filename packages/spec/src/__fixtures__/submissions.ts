import type { DeploymentSpec } from '../deployment-spec.ts';
import type { DeploymentRuleContext } from '../rules/deployment.ts';
import type { TrainingRuleContext } from '../rules/training.ts';
import type { CatalogDatasetInfo, CatalogModelInfo, RuleContext } from '../rules/types.ts';
import type { TrainingSubmission } from '../submissions.ts';

/** The body of quickstart.md §5.1, as written. */
export function quickstartJob(): TrainingSubmission {
  return {
    modelId: 'model-1',
    datasetId: 'dataset-1',
    jobType: 'finetune',
    trainJobSpec: {
      job_type: 'SFT',
      model_family: 'llama',
      base_model_ref: 'llama-3-8b-pretrain-v1',
      dataset_ref: {
        name: 'enterprise-instruction',
        version: 'v1',
        type: 'sft_pair',
        storage_uri: 's3://llm-datasets/enterprise-instruction/v1',
      },
      hyperparams: { lr: 0.0001, batch_size: 4, num_epochs: 3, max_seq_len: 4096, precision: 'bf16' },
      method: 'lora',
      resources: { gpus: 2, gpu_type: 'A100', nodes: 1 },
      output: { artifact_name: 'llama-3-8b-sft-v1', save_format: 'hf' },
      use_gpu: true,
    },
  };
}

/** The deploymentSpec of quickstart.md §5.2, as written. */
export function quickstartDeployment(): DeploymentSpec {
  return {
    model_ref: 'llama-3-8b-sft-v1',
    model_family: 'llama',
    job_type: 'SFT',
    serve_target: 'GENERATION',
    resources: { gpus: 2, gpu_memory_gb: 80 },
    runtime: { max_concurrent_requests: 256, max_input_tokens: 4096, max_output_tokens: 1024 },
    rollout: { strategy: 'canary', traffic_split: { old: 90, new: 10 } },
    use_gpu: true,
  };
}

export const baseModel: CatalogModelInfo = {
  id: 'model-1',
  name: 'llama-3-8b-pretrain-v1',
  modelFamily: 'llama',
  maxPositionEmbeddings: 8192,
  parameterCount: 8_000_000_000,
};

export const dataset: CatalogDatasetInfo = {
  id: 'dataset-1',
  name: 'enterprise-instruction',
  version: 'v1',
  type: 'sft_pair',
  rowCount: 1000,
};

export function ruleContext(): RuleContext {
  const decoder = ['PRETRAIN', 'SFT', 'RAG_TUNING', 'RLHF'] as const;
  return {
    environment: 'dev',
    families: {
      llama: { name: 'llama', hfArchitectures: ['LlamaForCausalLM'], allowedJobTypes: decoder },
      mistral: { name: 'mistral', hfArchitectures: ['MistralForCausalLM'], allowedJobTypes: decoder },
      bert: { name: 'bert', hfArchitectures: ['BertModel'], allowedJobTypes: ['EMBEDDING'] },
    },
    gpuTypes: [
      { name: 'T4', memoryGib: 16, pricePerGpuHour: 0.35, maxPerNode: 4 },
      { name: 'A100', memoryGib: 80, pricePerGpuHour: 3.67, maxPerNode: 8, peakTflops: 312 },
    ],
    policies: { maxGpusPerJob: 16, maxNodesPerJob: 4, fitCheck: { enabled: true, headroom: 0.9 } },
  };
}

export function trainingContext(
  overrides: Partial<TrainingRuleContext['lookups']> = {},
): TrainingRuleContext {
  return {
    ...ruleContext(),
    lookups: { baseModel, dataset, modelById: baseModel, datasetById: dataset, ...overrides },
  };
}

export function deploymentContext(
  overrides: Partial<DeploymentRuleContext['lookups']> = {},
): DeploymentRuleContext {
  const sftModel: CatalogModelInfo = { ...baseModel, id: 'model-2', name: 'llama-3-8b-sft-v1' };
  return {
    ...ruleContext(),
    lookups: {
      model: sftModel,
      producingJob: { id: 'job-1', jobType: 'SFT', modelFamily: 'llama' },
      ...overrides,
    },
  };
}
