import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPlatform, type TestPlatform } from './testing/test-platform.ts';

// The built web console at `/`: its files, index.html for page paths (deep links), and the API's own
// JSON 404 for unknown API routes.
let dir: string;
let later: string;
let t: TestPlatform;
let bare: TestPlatform;
let waiting: TestPlatform;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-console-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
  await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log("console")');
  await writeFile(join(dir, 'secret.txt.bak'), 'not to be reached through ..');
  t = await createTestPlatform({ consoleDir: join(dir) });
  bare = await createTestPlatform();
  // A folder the build has not reached yet (llmops up builds it while the platform starts).
  later = join(dir, 'not-built-yet');
  waiting = await createTestPlatform({ consoleDir: later });
});

afterAll(async () => {
  await t?.close();
  await bare?.close();
  await waiting?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (p: TestPlatform, url: string, headers: Record<string, string> = {}) =>
  p.app.inject({ method: 'GET', url, headers });

describe('web console', () => {
  it('serves index.html at / without a token', async () => {
    const res = await get(t, '/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<div id="app">');
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('serves hashed assets with a long cache lifetime', async () => {
    const res = await get(t, '/assets/index-abc123.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('answers a deep link of the console (a dynamic route) with index.html', async () => {
    for (const path of ['/catalog/models/3f1c-abc', '/training/jobs/new', '/governance/audit?x=1']) {
      const res = await get(t, path);
      expect(res.statusCode, path).toBe(200);
      expect(res.body, path).toContain('<div id="app">');
    }
  });

  it('keeps the JSON 404 envelope for unknown API routes', async () => {
    const res = await get(t, '/llm-ops/v1/no-such-route');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 'error', data: { code: 'NOT_FOUND' } });
    const api = await get(t, '/llm-ops/v1/health');
    expect(api.statusCode).toBe(200);
    expect(api.json()).toMatchObject({ status: 'success' });
  });

  it('answers a missing asset with 404, not with the page', async () => {
    const res = await get(t, '/assets/gone-123.js');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/json/);
  });

  it('never serves files outside its folder', async () => {
    const res = await get(t, '/../package.json');
    expect(res.body).not.toContain('"name"');
    const encoded = await get(t, '/%2e%2e/%2e%2e/package.json');
    expect(encoded.body).not.toContain('"workspaces"');
  });

  it('serves a build that appears after the start; until then pages lead to the API docs', async () => {
    const before = await get(waiting, '/catalog/models');
    expect(before.statusCode).toBe(302);
    expect(before.headers.location).toBe('/llm-ops/v1/docs');
    expect((await get(waiting, '/llm-ops/v1/nope')).statusCode).toBe(404);
    await mkdir(later);
    await writeFile(join(later, 'index.html'), '<!doctype html><div id="late"></div>');
    const after = await get(waiting, '/catalog/models');
    expect(after.statusCode).toBe(200);
    expect(after.body).toContain('<div id="late">');
  });

  it('without a console folder, / leads to the API docs', async () => {
    const res = await get(bare, '/');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/llm-ops/v1/docs');
  });
});
