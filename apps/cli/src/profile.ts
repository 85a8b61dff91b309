import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';

export interface Profile {
  url: string;
  token?: string;
  project?: string;
}

export interface ProfileFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';

/** `$XDG_CONFIG_HOME/llmops/config.yaml`, else `~/.config/llmops/config.yaml`. */
export function configPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'llmops', 'config.yaml');
}

function invalid(path: string, why: string): Error {
  return new Error(`${path}: ${why}; fix the file or remove it and run \`llmops login\` again`);
}

function checkProfile(path: string, name: string, p: unknown): Profile {
  if (typeof p !== 'object' || p === null) throw invalid(path, `profile '${name}' must be a mapping`);
  const r = p as Record<string, unknown>;
  if (typeof r.url !== 'string') throw invalid(path, `profile '${name}' needs a url`);
  for (const key of ['token', 'project'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'string')
      throw invalid(path, `profile '${name}'.${key} must be a string`);
  }
  return { url: r.url, token: r.token as string | undefined, project: r.project as string | undefined };
}

/** The profiles file; none yet is an empty one, a damaged one is an error that names the problem. */
export async function readProfiles(path: string): Promise<ProfileFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw e;
  }
  const doc = YAML.parseDocument(text);
  const err = doc.errors[0];
  if (err) {
    const at = err.linePos?.[0];
    throw invalid(path, `not valid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}`);
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(path, 'expected a mapping');
  const profiles: Record<string, Profile> = {};
  const rawProfiles = raw.profiles ?? {};
  if (typeof rawProfiles !== 'object' || rawProfiles === null)
    throw invalid(path, 'profiles must be a mapping');
  for (const [name, p] of Object.entries(rawProfiles)) profiles[name] = checkProfile(path, name, p);
  if (raw.current !== undefined && typeof raw.current !== 'string')
    throw invalid(path, 'current must be a profile name');
  return { current: raw.current as string | undefined, profiles };
}

/** The profile to use: the one asked for by name (which must exist), else the current one, if any. */
export function pickProfile(file: ProfileFile, name: string | undefined, path: string): Profile | undefined {
  if (name) {
    const p = file.profiles[name];
    if (!p) {
      const known = Object.keys(file.profiles);
      throw new Error(
        `No profile '${name}' in ${path}${known.length ? ` (known: ${known.join(', ')})` : ''}; create it with \`llmops login --profile ${name}\``,
      );
    }
    return p;
  }
  return file.profiles[file.current ?? DEFAULT_PROFILE];
}

/** Stores a profile and makes it current. The file holds tokens, so only its owner may read it. */
export async function saveProfile(path: string, name: string, profile: Profile): Promise<void> {
  const file = await readProfiles(path);
  const clean: Profile = { url: profile.url };
  if (profile.token) clean.token = profile.token;
  if (profile.project) clean.project = profile.project;
  file.profiles[name] = clean;
  file.current = name;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, YAML.stringify({ current: file.current, profiles: file.profiles }), { mode: 0o600 });
  // writeFile keeps the mode of a file that already exists; make sure an old, looser one is tightened.
  await chmod(path, 0o600);
}
