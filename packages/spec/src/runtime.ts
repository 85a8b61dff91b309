import { z } from 'zod';
import {
  datasetTypeSchema,
  jobTypeSchema,
  methodSchema,
  precisionSchema,
  saveFormatSchema,
} from './enums.ts';

/**
 * The contract between the platform and the Python training runtime (runtimes/python/llmops_runtime).
 * In: a JSON file (path in LLMOPS_SPEC) matching `runtimeSpecSchema`. Out: one JSON object per line on
 * stdout matching `runtimeEventSchema`, and an exit code from RUNTIME_EXIT_CODES.
 */

export const RUNTIME_MODES = [
  'pretrain',
  'sft',
  'dpo',
  'rag_tuning',
  'embedding',
  'reward',
  'ppo',
  'eval',
  'synthetic',
] as const;
export const runtimeModeSchema = z.enum(RUNTIME_MODES);
export type RuntimeMode = z.infer<typeof runtimeModeSchema>;

/** Exit codes of the runtime. Anything else is treated as a retryable crash. */
export const RUNTIME_EXIT_CODES = {
  /** Finished; the model is saved and a `result` event was emitted. */
  SUCCEEDED: 0,
  /** SIGTERM received: a checkpoint was written and emitted, then the process stopped (pause/preemption). */
  CHECKPOINTED: 10,
  /** A failure that may pass on retry (I/O, out of memory, interrupted download). */
  RETRYABLE: 20,
  /** A failure that will recur on retry (bad spec, bad data, unsupported model). */
  PERMANENT: 30,
} as const;

export const tinyModelConfigSchema = z
  .object({
    vocab_size: z.number().int().min(16).max(65536),
    hidden_size: z.number().int().min(8).max(4096),
    intermediate_size: z.number().int().min(8).max(16384),
    num_hidden_layers: z.number().int().min(1).max(64),
    num_attention_heads: z.number().int().min(1).max(64),
    max_position_embeddings: z.number().int().min(16).max(131072),
  })
  .strict()
  .describe('Architecture of a model created from scratch (PRETRAIN); a llama config');

export const runtimeSpecSchema = z
  .object({
    job_id: z.string().min(1),
    attempt: z.number().int().min(1),
    mode: runtimeModeSchema,
    job_type: jobTypeSchema,
    model: z
      .object({
        family: z.string().min(1),
        /** Local directory of the base model in Hugging Face format; null for PRETRAIN from scratch. */
        base_model_path: z.string().min(1).nullable(),
        /** Required when base_model_path is null. */
        init_config: tinyModelConfigSchema.nullable(),
        /** Directory with tokenizer files; when null the runtime builds a byte-level tokenizer from the data. */
        tokenizer_path: z.string().min(1).nullable(),
      })
      .strict(),
    dataset: z
      .object({ path: z.string().min(1), type: datasetTypeSchema, sha256: z.string().nullable() })
      .strict(),
    hyperparams: z
      .object({
        lr: z.number().positive(),
        batch_size: z.number().int().positive(),
        num_epochs: z.number().int().positive(),
        max_seq_len: z.number().int().positive(),
        precision: precisionSchema,
        /** Caps the number of optimizer steps (tests, smoke runs); null = full epochs. */
        max_steps: z.number().int().positive().nullable(),
        seed: z.number().int().min(0),
      })
      .strict(),
    method: methodSchema,
    lora: z
      .object({
        r: z.number().int().positive(),
        alpha: z.number().positive(),
        dropout: z.number().min(0).max(1),
      })
      .strict()
      .nullable(),
    dpo: z.object({ beta: z.number().positive() }).strict().nullable(),
    checkpoint: z
      .object({
        dir: z.string().min(1),
        every_n_steps: z.number().int().positive(),
        /** A checkpoint directory to resume from, or "latest" (the newest under dir), or null to start fresh. */
        resume_from: z.string().min(1).nullable(),
        keep_last: z.number().int().positive(),
      })
      .strict(),
    output: z
      .object({ dir: z.string().min(1), artifact_name: z.string().min(1), save_format: saveFormatSchema })
      .strict(),
    use_gpu: z.boolean(),
    /** Only for mode "synthetic": steps to emit and the pause between them (load tests of the supervisor). */
    synthetic: z
      .object({ steps: z.number().int().positive(), step_ms: z.number().int().min(0) })
      .strict()
      .nullable(),
  })
  .strict()
  .meta({ id: 'RuntimeSpec' });
export type RuntimeSpec = z.infer<typeof runtimeSpecSchema>;

const step = z.number().int().min(0);

export const runtimeEventSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('started'),
      ts: z.number(),
      mode: runtimeModeSchema,
      resumed_from_step: step.nullable(),
      runtime_version: z.string(),
    })
    .strict(),
  z
    .object({
      type: z.literal('progress'),
      ts: z.number(),
      step,
      total_steps: step,
      epoch: z.number().min(0),
    })
    .strict(),
  z
    .object({ type: z.literal('metric'), ts: z.number(), step, values: z.record(z.string(), z.number()) })
    .strict(),
  z.object({ type: z.literal('checkpoint'), ts: z.number(), step, path: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('artifact'),
      ts: z.number(),
      kind: z.enum(['model', 'tokenizer', 'log', 'report']),
      path: z.string().min(1),
      format: saveFormatSchema.nullable(),
    })
    .strict(),
  z
    .object({
      type: z.literal('log'),
      ts: z.number(),
      level: z.enum(['debug', 'info', 'warning', 'error']),
      message: z.string(),
    })
    .strict(),
  z
    .object({
      type: z.literal('result'),
      ts: z.number(),
      status: z.enum(['succeeded', 'failed', 'checkpointed']),
      step,
      metrics: z.record(z.string(), z.number()),
      message: z.string().nullable(),
    })
    .strict(),
]);
export type RuntimeEvent = z.infer<typeof runtimeEventSchema>;

/** Parses one stdout line; null when the line is not an event (plain prints are kept as log lines). */
export function parseRuntimeEvent(line: string): RuntimeEvent | { invalid: string } | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { invalid: 'not valid JSON' };
  }
  const r = runtimeEventSchema.safeParse(value);
  return r.success
    ? r.data
    : { invalid: r.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ') };
}
