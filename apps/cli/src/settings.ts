import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { normaliseBaseUrl } from '@llmops/client';
import type { OutputFormat } from './output.ts';
import type { Profile } from './profile.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8000';

export interface GlobalFlags {
  url?: string;
  token?: string;
  project?: string;
  output?: OutputFormat;
  profile?: string;
}

export type TokenSource = 'flag' | 'env' | 'profile' | 'admin-token' | 'none';

export interface Settings {
  url: string;
  token?: string;
  tokenSource: TokenSource;
  project?: string;
  output: OutputFormat;
}

export interface SettingsInput {
  flags: GlobalFlags;
  env: Record<string, string | undefined>;
  cwd: string;
  profile?: Profile;
  readFile?: (path: string) => string | undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLocalUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return LOCAL_HOSTS.has(host) || host.startsWith('127.');
}

/** The embedded platform's data directory, resolved the way the platform resolves it. */
export function llmopsHome(env: Record<string, string | undefined>, cwd: string): string {
  return resolve(cwd, env.LLMOPS_HOME || '.llmops');
}

function readQuietly(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Flag, then environment, then the login profile, then defaults. A profile's token and project are
 * used only for the profile's own URL, so that `--url` pointing elsewhere never receives its token.
 */
export function resolveSettings(input: SettingsInput): Settings {
  const { flags, env, profile } = input;
  const url = normaliseBaseUrl(flags.url ?? (env.LLMOPS_URL || undefined) ?? profile?.url ?? DEFAULT_URL);
  const own = profile && normaliseBaseUrl(profile.url) === url ? profile : undefined;
  const project = flags.project ?? (env.LLMOPS_PROJECT || undefined) ?? own?.project;
  const output = flags.output ?? 'table';

  if (flags.token) return { url, token: flags.token, tokenSource: 'flag', project, output };
  if (env.LLMOPS_TOKEN) return { url, token: env.LLMOPS_TOKEN, tokenSource: 'env', project, output };
  if (own?.token) return { url, token: own.token, tokenSource: 'profile', project, output };
  // The embedded platform writes its first admin token here; on this machine that is as good as a login.
  if (isLocalUrl(url)) {
    const token = (input.readFile ?? readQuietly)(join(llmopsHome(env, input.cwd), 'admin-token'))?.trim();
    if (token) return { url, token, tokenSource: 'admin-token', project, output };
  }
  return { url, tokenSource: 'none', project, output };
}
