/** The bodies of quickstart.md §5 as written, shared by the API tests, the CLI tests and the benchmarks. */

/** The base model and dataset the quickstart bodies reference. */
export const QUICKSTART_MODEL = {
  name: 'llama-3-8b-pretrain-v1',
  model_family: 'llama',
  max_position_embeddings: 8192,
  parameter_count: 8_000_000_000,
};
export const QUICKSTART_DATASET = {
  name: 'enterprise-instruction',
  version: 'v1',
  type: 'sft_pair',
  storage_uri: 's3://llm-datasets/enterprise-instruction/v1',
};

export function quickstartJobBody(modelId: string, datasetId: string) {
  return {
    modelId,
    datasetId,
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

export function quickstartEndpointBody(modelId: string) {
  return {
    modelId,
    route: '/test-model',
    environment: 'dev',
    deploymentSpec: {
      model_ref: 'llama-3-8b-sft-v1',
      model_family: 'llama',
      job_type: 'SFT',
      serve_target: 'GENERATION',
      resources: { gpus: 2, gpu_memory_gb: 80 },
      runtime: { max_concurrent_requests: 256, max_input_tokens: 4096, max_output_tokens: 1024 },
      rollout: { strategy: 'canary', traffic_split: { old: 90, new: 10 } },
      use_gpu: true,
    },
  };
}
