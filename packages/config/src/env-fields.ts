import { resolve } from 'node:path';
import { z } from 'zod';

// Field builders for environment variables. Every variable arrives as a string; defaults are written as
// they would appear in a .env file so that `.env.example` can be generated from the schema itself.

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** true/false/1/0/yes/no, case-insensitive; anything else is an error naming the value. */
export function flag(defaultValue: boolean, doc: string) {
  return z
    .string()
    .default(String(defaultValue))
    .transform((raw, ctx) => {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true, false, 1, 0, yes or no, got "${raw}"` });
      return z.NEVER;
    })
    .describe(doc);
}

export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue: T[number],
  doc: string,
) {
  return z
    .enum(values, {
      error: (issue) => `expected one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .default(defaultValue)
    .describe(doc);
}

export function integer(defaultValue: number, min: number, max: number, doc: string) {
  return z
    .string()
    .default(String(defaultValue))
    .transform((raw, ctx) => {
      const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
      if (Number.isInteger(value) && value >= min && value <= max) return value;
      ctx.addIssue({
        code: 'custom',
        message: `expected a whole number from ${min} to ${max}, got "${raw}"`,
      });
      return z.NEVER;
    })
    .describe(doc);
}

export function text(doc: string) {
  return z.string().optional().describe(doc);
}

export function textWithDefault(defaultValue: string, doc: string) {
  return z.string().default(defaultValue).describe(doc);
}

/** A directory, resolved against the working directory once so later `chdir`s cannot move it. */
export function directory(defaultValue: string, doc: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((value) => resolve(value))
    .describe(doc);
}

export function optionalDirectory(doc: string) {
  return z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : resolve(value)))
    .describe(doc);
}

function checkUrl(protocols: readonly string[], secret: boolean) {
  return (value: string | undefined, ctx: z.RefinementCtx): void => {
    if (value === undefined) return;
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol.replace(/:$/, '');
    } catch {
      protocol = undefined;
    }
    if (protocol === undefined || !protocols.includes(protocol)) {
      // URLs such as DATABASE_URL carry credentials, so their value never goes into a log line.
      const shown = secret ? 'the value is not shown because it may hold credentials' : `got "${value}"`;
      ctx.addIssue({ code: 'custom', message: `expected a ${protocols.join(':// or ')}:// URL; ${shown}` });
    }
  };
}

export function url(protocols: readonly string[], doc: string, opts: { secret?: boolean } = {}) {
  return z
    .string()
    .optional()
    .superRefine(checkUrl(protocols, opts.secret ?? false))
    .describe(doc);
}

export function urlWithDefault(protocols: readonly string[], defaultValue: string, doc: string) {
  return z.string().default(defaultValue).superRefine(checkUrl(protocols, false)).describe(doc);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function namespace(defaultValue: string, doc: string) {
  return z
    .string()
    .default(defaultValue)
    .refine((value) => DNS_LABEL.test(value), {
      error: (issue) =>
        `expected a Kubernetes namespace (lower-case letters, digits and '-', at most 63), got ${JSON.stringify(issue.input)}`,
    })
    .describe(doc);
}
