import { z } from 'zod';

/** A zod issue reduced to what a configuration error needs: where, and what is wrong. */
export interface FlatIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Per-parse error map: a missing value reads "Required" (the word administrators search for) instead of
 * zod's generic "expected string, received undefined".
 */
export function requiredErrorMap(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'Required';
  return undefined;
}

/**
 * Flattens zod issues; an unknown key becomes one issue per key, at the key's own path, listing the keys
 * that are allowed there so a typo is obvious.
 */
export function flattenIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, issue.path);
      const hint = allowed.length > 0 ? ` (expected one of: ${allowed.join(', ')})` : '';
      for (const key of issue.keys) out.push({ path: [...issue.path, key], message: `unknown key${hint}` });
    } else {
      out.push({ path: issue.path, message: issue.message });
    }
  }
  return out;
}

/** Keys of the strict object found by following `path` through the schema; [] when not an object. */
export function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(key)];
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else return [];
    current = current === undefined ? undefined : unwrap(current);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else return current;
  }
}
