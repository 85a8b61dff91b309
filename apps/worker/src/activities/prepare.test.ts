import { tinyModelConfigSchema } from '@llmops/spec';
import { describe, expect, it } from 'vitest';
import {
  defaultPretrainArchitecture,
  llamaParameterCount,
  localPathOf,
  runtimeModeFor,
  storageUriOf,
} from './prepare.ts';

describe('storage URIs', () => {
  const store = '/srv/llmops/artifacts';

  it('maps s3://bucket/key into the local artifact store and back', () => {
    expect(localPathOf('s3://datasets/p1/corpus/v1.jsonl', store)).toBe(
      '/srv/llmops/artifacts/datasets/p1/corpus/v1.jsonl',
    );
    expect(storageUriOf('/srv/llmops/artifacts/models/p1/out/job', store)).toBe('s3://models/p1/out/job');
  });

  it('rejects keys that would leave the store', () => {
    expect(localPathOf('s3://datasets/../../etc/passwd', store)).toBeNull();
    expect(localPathOf('s3://bucket-only', store)).toBeNull();
    expect(localPathOf('hf://meta-llama/Llama-3', store)).toBeNull();
  });

  it('accepts file URLs and absolute paths, and names paths outside the store with file URLs', () => {
    expect(localPathOf('file:///data/model', store)).toBe('/data/model');
    expect(localPathOf('/data/model', store)).toBe('/data/model');
    expect(storageUriOf('/data/model', store)).toBe('file:///data/model');
  });
});

describe('runtime spec choices', () => {
  it('sizes the default pre-training architecture from max_seq_len within the contract', () => {
    for (const len of [1, 100, 128, 4096, 1_048_576]) {
      const config = defaultPretrainArchitecture(len);
      expect(tinyModelConfigSchema.safeParse(config).success).toBe(true);
      expect(config.max_position_embeddings).toBeGreaterThanOrEqual(Math.min(len, 131_072));
    }
    expect(defaultPretrainArchitecture(100).max_position_embeddings).toBe(128);
    expect(llamaParameterCount(defaultPretrainArchitecture(128))).toBe(196_928);
  });

  it('maps job types to runtime modes (RLHF → dpo, or ppo when the submission asks for it)', () => {
    const body = (jobType: string, kind = 'finetune', extra = {}) =>
      ({ jobType: kind, trainJobSpec: { job_type: jobType }, ...extra }) as never;
    expect(runtimeModeFor(body('PRETRAIN', 'pretrain'))).toBe('pretrain');
    expect(runtimeModeFor(body('SFT'))).toBe('sft');
    expect(
      runtimeModeFor(body('RLHF', 'rlhf', { rlhfSpec: { policy_optimization: { algorithm: 'DPO' } } })),
    ).toBe('dpo');
    expect(
      runtimeModeFor(body('RLHF', 'rlhf', { rlhfSpec: { policy_optimization: { algorithm: 'PPO' } } })),
    ).toBe('ppo');
  });
});
