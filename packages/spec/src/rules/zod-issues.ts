import type { z } from 'zod';
import { violation, type RuleViolation } from './types.ts';

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, seg) => {
    if (typeof seg === 'number') return `${acc}[${seg}]`;
    const s = String(seg);
    return acc ? `${acc}.${s}` : s;
  }, '');
}

/** Turns Zod issues into rule violations with JSON paths (one violation per unknown key). */
export function zodIssuesToViolations(error: z.ZodError, prefix = ''): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const issue of error.issues) {
    const base = formatPath([...(prefix ? [prefix] : []), ...issue.path]);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = base ? `${base}.${key}` : key;
        out.push(violation('SCHEMA_UNKNOWN_FIELD', path, `Unknown field '${path}'`));
      }
      continue;
    }
    if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
      // A union's branches each failed: report the branch with the fewest problems.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      out.push(...best.map((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] }, prefix)));
      continue;
    }
    out.push(describeIssue(issue, prefix));
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, prefix: string): RuleViolation {
  const path = formatPath([...(prefix ? [prefix] : []), ...issue.path]) || '(body)';
  if (issue.code === 'invalid_type') {
    const missing = issue.input === undefined;
    if (missing) return violation('SCHEMA_REQUIRED', path, `'${path}' is required (${issue.expected})`);
    return violation(
      'SCHEMA_INVALID_TYPE',
      path,
      `'${path}' must be ${issue.expected}, got ${describeValue(issue.input)}`,
    );
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return violation(
      'SCHEMA_INVALID_VALUE',
      path,
      `'${path}' must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`,
    );
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    return violation(
      'SCHEMA_INVALID_VALUE',
      path,
      `'${path}' has an unknown ${String(issue.discriminator)}: ${issue.message}`,
    );
  }
  return violation('SCHEMA_INVALID_VALUE', path, `'${path}': ${issue.message}`);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'object';
  return `${typeof v} ${String(v)}`;
}
