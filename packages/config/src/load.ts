import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ENVIRONMENTS } from '@llmops/spec';
import type { Environment } from '@llmops/spec';
import { ConfigError } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { flattenIssues, requiredErrorMap } from './issues.ts';
import { deepMerge, filesForPath, formatPath, isPlainObject } from './merge.ts';
import type { Layer } from './merge.ts';
import { platformConfigSchema } from './schema.ts';
import type { PlatformConfig } from './schema.ts';

export const BASE_CONFIG_FILE = 'platform.yaml';

export interface LoadPlatformConfigOptions {
  readonly environment: Environment;
  /** Directory holding platform.yaml; default LLMOPS_CONFIG_DIR, then the repository's config/. */
  readonly dir?: string;
}

/** `<repo>/config`, found from this file so it works whatever the working directory is. */
export function defaultConfigDir(): string {
  return fileURLToPath(new URL('../../../config', import.meta.url));
}

export function overlayFileName(environment: Environment): string {
  return `platform.${environment}.yaml`;
}

/**
 * Reads config/platform.yaml and the overlay of `environment`, merges them (mappings merge, lists
 * replace, null removes) and validates the result. Throws ConfigError naming file, JSON path and problem.
 */
export function loadPlatformConfig(opts: LoadPlatformConfigOptions): PlatformConfig {
  const environment = opts.environment;
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new ConfigError([
      {
        location: 'environment',
        message: `expected one of ${ENVIRONMENTS.join(', ')}, got "${String(environment)}"`,
      },
    ]);
  }
  const dir = resolve(opts.dir ?? process.env.LLMOPS_CONFIG_DIR ?? defaultConfigDir());
  const base = readLayer(dir, BASE_CONFIG_FILE, true);
  const overlay = readLayer(dir, overlayFileName(environment), false);
  const readIssues = [...base.issues, ...overlay.issues];
  if (readIssues.length > 0) throw new ConfigError(readIssues);

  const layers = [base.layer, overlay.layer].filter((layer): layer is Layer => layer !== undefined);
  const merged = layers.reduce<unknown>((acc, layer) => deepMerge(acc, layer.data), {});
  const result = platformConfigSchema.safeParse(merged, { error: requiredErrorMap });
  if (!result.success) {
    const issues = flattenIssues(platformConfigSchema, result.error.issues).map((issue): ConfigIssue => ({
      location: `${filesForPath(layers, issue.path).join(', ')}: ${formatPath(issue.path)}`,
      message: issue.message,
    }));
    throw new ConfigError(issues);
  }
  return deepFreeze({ ...result.data, environment, sources: layers.map((layer) => layer.file) });
}

interface ReadResult {
  readonly layer?: Layer;
  readonly issues: ConfigIssue[];
}

function readLayer(dir: string, fileName: string, required: boolean): ReadResult {
  // Messages name `<dir name>/<file>` only: they end up in logs and job events, where a machine's
  // absolute paths do not belong.
  const file = `${basename(dir)}/${fileName}`;
  let text: string;
  try {
    text = readFileSync(resolve(dir, fileName), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return { issues: [] };
    const message =
      code === 'ENOENT'
        ? 'file not found (set LLMOPS_CONFIG_DIR to the directory that holds platform.yaml)'
        : `cannot read file (${code ?? String(error)})`;
    return { issues: [{ location: file, message }] };
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      issues: problems.map((problem) => {
        const pos = problem.linePos?.[0];
        const reason = problem.message.split(/ at line \d+, column \d+/)[0] ?? problem.message;
        return { location: pos ? `${file}:${pos.line}:${pos.col}` : file, message: reason.trim() };
      }),
    };
  }
  const data: unknown = doc.toJS() ?? {};
  if (!isPlainObject(data)) {
    return { issues: [{ location: file, message: 'the top level must be a mapping of keys to values' }] };
  }
  return { layer: { file, data }, issues: [] };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
