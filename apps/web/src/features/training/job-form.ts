import type { SubmitJob } from '@llmops/client';

/** The fields of the submit form, flat so that each binds to one input. */
export interface JobForm {
  job_type: 'PRETRAIN' | 'SFT' | 'RAG_TUNING' | 'EMBEDDING';
  model_family: string;
  base_model_ref: string;
  dataset: string;
  dataset_name: string;
  dataset_version: string;
  dataset_type: string;
  dataset_storage_uri: string;
  lr: number | null;
  batch_size: number | null;
  num_epochs: number | null;
  max_seq_len: number | null;
  precision: 'bf16' | 'fp16';
  method: 'full' | 'lora' | 'qlora';
  gpus: number | null;
  gpu_type: string | null;
  nodes: number | null;
  artifact_name: string;
  save_format: 'hf' | 'safetensors';
  use_gpu: boolean;
  priority: number | null;
}

export function emptyJobForm(): JobForm {
  return {
    job_type: 'PRETRAIN',
    model_family: 'llama',
    base_model_ref: '',
    dataset: '',
    dataset_name: '',
    dataset_version: '',
    dataset_type: 'pretrain_corpus',
    dataset_storage_uri: '',
    lr: 0.003,
    batch_size: 8,
    num_epochs: 1,
    max_seq_len: 64,
    precision: 'bf16',
    method: 'full',
    gpus: 0,
    gpu_type: null,
    nodes: 1,
    artifact_name: '',
    save_format: 'safetensors',
    use_gpu: false,
    priority: null,
  };
}

/** The request body of POST /training/jobs (and /validate) for the form as it stands. */
export function toSubmission(f: JobForm): SubmitJob {
  const num = (v: number | null) => (v === null ? undefined : v);
  return {
    jobType: f.job_type === 'PRETRAIN' ? 'pretrain' : 'finetune',
    ...(f.priority === null ? {} : { priority: f.priority }),
    trainJobSpec: {
      job_type: f.job_type,
      model_family: f.model_family.trim(),
      base_model_ref: f.job_type === 'PRETRAIN' && !f.base_model_ref.trim() ? null : f.base_model_ref.trim(),
      dataset_ref: {
        name: f.dataset_name,
        version: f.dataset_version,
        type: f.dataset_type,
        storage_uri: f.dataset_storage_uri,
      },
      hyperparams: {
        lr: num(f.lr),
        batch_size: num(f.batch_size),
        num_epochs: num(f.num_epochs),
        max_seq_len: num(f.max_seq_len),
        precision: f.precision,
      },
      method: f.method,
      resources: { gpus: num(f.gpus), gpu_type: f.gpu_type ?? '', nodes: num(f.nodes) },
      output: { artifact_name: f.artifact_name.trim(), save_format: f.save_format },
      use_gpu: f.use_gpu,
    },
  } as SubmitJob;
}

/** Which form field a violation's JSON path points at (e.g. trainJobSpec.dataset_ref.type → dataset). */
export function fieldOf(path: string): keyof JobForm | null {
  const p = path.replace(/^(body\.)?trainJobSpec\./, '').replace(/^body\./, '');
  if (p.startsWith('dataset_ref')) return 'dataset';
  const leaf = p.split('.').at(-1) ?? '';
  const map: Record<string, keyof JobForm> = {
    job_type: 'job_type',
    model_family: 'model_family',
    base_model_ref: 'base_model_ref',
    lr: 'lr',
    batch_size: 'batch_size',
    num_epochs: 'num_epochs',
    max_seq_len: 'max_seq_len',
    precision: 'precision',
    method: 'method',
    gpus: 'gpus',
    gpu_type: 'gpu_type',
    nodes: 'nodes',
    artifact_name: 'artifact_name',
    save_format: 'save_format',
    use_gpu: 'use_gpu',
    priority: 'priority',
  };
  return map[leaf] ?? null;
}
