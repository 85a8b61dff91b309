import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { imageRefSchema, platformConfigSchema } from './schema.ts';
import { allowedKeys } from './issues.ts';

// Every field documents itself: the description is what administrators see in docs and editors.
function undocumented(schema: z.ZodType, path: string): string[] {
  const missing: string[] = [];
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) {
    inner = inner.unwrap() as z.ZodType;
  }
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      if (!child.description) missing.push(`${path}.${key}`);
      missing.push(...undocumented(child, `${path}.${key}`));
    }
  } else if (inner instanceof z.ZodRecord) {
    missing.push(...undocumented(inner.valueType as z.ZodType, `${path}.*`));
  } else if (inner instanceof z.ZodArray) {
    missing.push(...undocumented(inner.element as z.ZodType, `${path}[]`));
  }
  return missing;
}

describe('platformConfigSchema', () => {
  it('describes every field', () => {
    expect(undocumented(platformConfigSchema, '')).toEqual([]);
  });

  it('finds the allowed keys of nested strict objects for typo hints', () => {
    expect(allowedKeys(platformConfigSchema, ['images', 'train', 'SFT'])).toEqual(['gpu', 'cpu']);
    expect(allowedKeys(platformConfigSchema, ['gpu_types', 'dev', 0])).toEqual([
      'name',
      'memory_gib',
      'price_per_gpu_hour',
      'max_per_node',
      'peak_tflops',
    ]);
    expect(allowedKeys(platformConfigSchema, ['model_families', 'llama', 'hf_architectures'])).toEqual([]);
  });
});

describe('imageRefSchema', () => {
  it.each([
    'ghcr.io/llm-ops/train-sft:0.1.0-gpu',
    'localhost:5000/llm-ops/train-sft:dev',
    `llm-ops/serve-rag@sha256:${'0'.repeat(64)}`,
    `ghcr.io/llm-ops/serve-rag:latest@sha256:${'f'.repeat(64)}`,
  ])('accepts %s', (ref) => {
    expect(imageRefSchema.safeParse(ref).success).toBe(true);
  });

  it.each([
    ['ghcr.io/llm-ops/train-sft', 'must pin a tag or a digest'],
    ['ghcr.io/llm-ops/train-sft:latest', 'uses the moving tag "latest"'],
    ['GHCR.io/Upper/Case:1.0', 'is not a valid container image reference'],
    ['train sft:1.0', 'is not a valid container image reference'],
    ['llm-ops/serve-rag@sha256:short', 'is not a valid container image reference'],
  ])('rejects %s', (ref, message) => {
    const result = imageRefSchema.safeParse(ref);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(message);
  });
});
