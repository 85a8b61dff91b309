import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, isLocalUrl, resolveSettings, type SettingsInput } from './settings.ts';

const profile = { url: 'https://ops.example.org', token: 'profile-token', project: 'team-a' };
const files: Record<string, string> = {
  '/srv/app/.llmops/admin-token': 'local-admin\n',
  '/data/llmops/admin-token': 'other-admin\n',
};
const base = (over: Partial<SettingsInput> = {}): SettingsInput => ({
  flags: {},
  env: {},
  cwd: '/srv/app',
  readFile: (p) => files[p],
  ...over,
});

describe('resolveSettings', () => {
  it('defaults to the local platform and its admin token file under ./.llmops', () => {
    expect(resolveSettings(base())).toEqual({
      url: DEFAULT_URL,
      token: 'local-admin',
      tokenSource: 'admin-token',
      project: undefined,
      output: 'table',
    });
  });

  it('reads the admin token from LLMOPS_HOME', () => {
    expect(resolveSettings(base({ env: { LLMOPS_HOME: '/data/llmops' } })).token).toBe('other-admin');
  });

  it('never offers the local admin token to a remote URL', () => {
    const s = resolveSettings(base({ flags: { url: 'https://ops.example.org' } }));
    expect(s.tokenSource).toBe('none');
    expect(s.token).toBeUndefined();
  });

  it('uses the profile for its own URL', () => {
    const s = resolveSettings(base({ profile }));
    expect(s).toMatchObject({
      url: 'https://ops.example.org',
      token: 'profile-token',
      tokenSource: 'profile',
      project: 'team-a',
    });
  });

  it('does not send the profile token to another URL given by flag or environment', () => {
    const byFlag = resolveSettings(base({ profile, flags: { url: 'https://elsewhere.example.org' } }));
    expect(byFlag.tokenSource).toBe('none');
    expect(byFlag.token ?? byFlag.project).toBeUndefined();
    const byEnv = resolveSettings(base({ profile, env: { LLMOPS_URL: 'http://127.0.0.1:9000' } }));
    expect(byEnv).toMatchObject({ url: 'http://127.0.0.1:9000', tokenSource: 'admin-token' });
  });

  it('puts flags before environment before profile', () => {
    const env = {
      LLMOPS_URL: 'https://ops.example.org/',
      LLMOPS_TOKEN: 'env-token',
      LLMOPS_PROJECT: 'env-proj',
    };
    expect(resolveSettings(base({ profile, env }))).toMatchObject({
      token: 'env-token',
      tokenSource: 'env',
      project: 'env-proj',
    });
    const flags = { token: 'flag-token', project: 'flag-proj', output: 'json' as const };
    expect(resolveSettings(base({ profile, env, flags }))).toMatchObject({
      token: 'flag-token',
      tokenSource: 'flag',
      project: 'flag-proj',
      output: 'json',
    });
  });

  it('rejects a URL without a scheme, naming it', () => {
    expect(() => resolveSettings(base({ flags: { url: 'ops.example.org' } }))).toThrow(
      "Invalid platform URL 'ops.example.org'",
    );
  });
});

describe('isLocalUrl', () => {
  it.each([
    ['http://127.0.0.1:8000', true],
    ['http://localhost:8000', true],
    ['http://[::1]:8000', true],
    ['http://127.1.2.3', true],
    ['https://ops.example.org', false],
    ['http://10.0.0.5:8000', false],
  ])('%s → %s', (url, local) => expect(isLocalUrl(url)).toBe(local));
});
