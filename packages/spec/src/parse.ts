import type { z } from 'zod';
import { findImageOverrides } from './rules/image-override.ts';
import type { RuleViolation } from './rules/types.ts';
import { zodIssuesToViolations } from './rules/zod-issues.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; violations: RuleViolation[] };

/**
 * The gate's first stage: refuse image choices with their own rule, then check the shape.
 * `nested` names the objects that may hide an image field (trainJobSpec, deploymentSpec).
 */
export function parseWithRules<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  nested: readonly string[],
): Parsed<z.infer<S>> {
  const overrides = findImageOverrides(raw, nested);
  const result = schema.safeParse(raw, { reportInput: true });
  if (overrides.length > 0) {
    const rest = result.success
      ? []
      : zodIssuesToViolations(result.error).filter((v) => !overrides.some((o) => o.path === v.path));
    return { ok: false, violations: [...overrides, ...rest] };
  }
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, violations: zodIssuesToViolations(result.error) };
}
