import { z } from 'zod';
import type { DatasetType } from './enums.ts';

const text = z.string().trim().min(1, 'must not be empty');

export const chatMessageSchema = z
  .object({ role: z.enum(['system', 'user', 'assistant', 'tool']), content: z.string() })
  .strict();

/** Row formats accepted for each dataset type (SPEC C9). Every row must match one of its type's formats. */
export const DATASET_ROW_FORMATS: Record<DatasetType, Record<string, z.ZodType>> = {
  pretrain_corpus: {
    text: z.object({ text }).strict(),
  },
  sft_pair: {
    instruction: z.object({ instruction: text, input: z.string().optional(), output: text }).strict(),
    completion: z.object({ prompt: text, completion: text }).strict(),
    chat: z
      .object({
        messages: z
          .array(chatMessageSchema)
          .min(2)
          .refine((m) => m.some((x) => x.role === 'assistant'), 'needs at least one assistant message'),
      })
      .strict(),
  },
  rag_qa: {
    rag: z.object({ question: text, context: text, answer: text }).strict(),
  },
  rlhf_pair: {
    preference: z
      .object({ prompt: text, chosen: text, rejected: text })
      .strict()
      .refine((r) => r.chosen !== r.rejected, 'chosen and rejected must differ'),
  },
  embedding_pair: {
    pair: z.object({ anchor: text, positive: text, negative: z.string().optional() }).strict(),
    query: z.object({ query: text, positive: text, negative: z.string().optional() }).strict(),
  },
};

export type RowCheck = { ok: true; format: string } | { ok: false; message: string };

/** Checks one row against its dataset type; the message names the closest format's problems. */
export function checkDatasetRow(type: DatasetType, row: unknown): RowCheck {
  const formats = DATASET_ROW_FORMATS[type];
  let best: { format: string; issues: z.core.$ZodIssue[] } | null = null;
  for (const [format, schema] of Object.entries(formats)) {
    const r = schema.safeParse(row);
    if (r.success) return { ok: true, format };
    if (!best || r.error.issues.length < best.issues.length) best = { format, issues: r.error.issues };
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row))
    return { ok: false, message: 'row must be a JSON object' };
  const names = Object.keys(formats).join(' | ');
  const issues = best!.issues
    .map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown field(s) ${i.keys.join(', ')}`
        : `${i.path.join('.') || 'row'}: ${i.message}`,
    )
    .join('; ');
  return {
    ok: false,
    message: `not a valid ${type} row (formats: ${names}); closest '${best!.format}': ${issues}`,
  };
}
