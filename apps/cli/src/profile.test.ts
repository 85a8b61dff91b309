import { chmod, mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { configPath, pickProfile, readProfiles, saveProfile } from './profile.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-profile-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('configPath', () => {
  it('follows XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x/conf', HOME: '/home/u' })).toBe('/x/conf/llmops/config.yaml');
    expect(configPath({ HOME: '/home/u' })).toBe('/home/u/.config/llmops/config.yaml');
    expect(configPath({ XDG_CONFIG_HOME: '', HOME: '/home/u' })).toBe('/home/u/.config/llmops/config.yaml');
  });
});

describe('saveProfile', () => {
  it('writes a file only its owner can read, in a directory only its owner can enter', async () => {
    const path = join(dir, 'llmops', 'config.yaml');
    await saveProfile(path, 'default', { url: 'http://h:1', token: 'secret' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'llmops'))).mode & 0o777).toBe(0o700);
    expect(YAML.parse(await readFile(path, 'utf8'))).toEqual({
      current: 'default',
      profiles: { default: { url: 'http://h:1', token: 'secret' } },
    });
  });

  it('tightens an existing file that others could read', async () => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'profiles: {}\n');
    await chmod(path, 0o644);
    await saveProfile(path, 'default', { url: 'http://h:1', token: 't' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps other profiles and makes the saved one current', async () => {
    const path = join(dir, 'config.yaml');
    await saveProfile(path, 'prod', { url: 'https://ops.example.org', token: 'p', project: 'team-a' });
    await saveProfile(path, 'dev', { url: 'http://h:1', token: 'd' });
    const file = await readProfiles(path);
    expect(file.current).toBe('dev');
    expect(file.profiles.prod).toEqual({ url: 'https://ops.example.org', token: 'p', project: 'team-a' });
    expect(pickProfile(file, undefined, path)).toEqual({ url: 'http://h:1', token: 'd' });
    expect(pickProfile(file, 'prod', path)?.project).toBe('team-a');
  });
});

describe('readProfiles', () => {
  it('treats a missing file as no profiles', async () => {
    expect(await readProfiles(join(dir, 'nope.yaml'))).toEqual({ profiles: {} });
  });

  it('names the line of broken YAML', async () => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'profiles:\n  default: [unclosed\n');
    await expect(readProfiles(path)).rejects.toThrow(`${path}: not valid YAML at line 3, column 1`);
  });

  it('names a profile without a url', async () => {
    const path = join(dir, 'config.yaml');
    await mkdir(dir, { recursive: true });
    await writeFile(path, 'profiles:\n  default:\n    token: t\n');
    await expect(readProfiles(path)).rejects.toThrow("profile 'default' needs a url");
  });

  it('refuses an unknown profile name and lists the known ones', async () => {
    const path = join(dir, 'config.yaml');
    await saveProfile(path, 'dev', { url: 'http://h:1' });
    expect(() => pickProfile({ profiles: { dev: { url: 'http://h:1' } } }, 'prod', path)).toThrow(
      `No profile 'prod' in ${path} (known: dev); create it with \`llmops login --profile prod\``,
    );
  });
});
