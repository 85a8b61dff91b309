import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryMlflow, type InMemoryMlflow } from '@llmops/core';
import { testDbKind } from '@llmops/testing';
import { API, createTestPlatform, type Client, type TestPlatform } from '../../testing/test-platform.ts';

const MODEL = 'llama-3-8b-sft';

async function member(root: Client, name: string, role: string, p: TestPlatform) {
  const m = await root.post(`${API}/members`, { name, role });
  const t = await root.post(`${API}/tokens`, { name: `${name}-token`, userId: m.body.data.userId });
  return p.as(t.body.data.token, 'default');
}

/** A registered model of the project with `n` READY versions, as a successful training job leaves it. */
async function registerModel(mlflow: InMemoryMlflow, projectId: string, name: string, n: number) {
  await mlflow.ensureRegisteredModel(name, [{ key: 'llmops.project_id', value: projectId }]);
  for (let i = 1; i <= n; i++)
    await mlflow.createModelVersion({
      name,
      source: `mlflow-artifacts:/1/run${i}/artifacts/model`,
      runId: `run${i}`,
      tags: [
        { key: 'llmops.project_id', value: projectId },
        { key: 'llmops.job_id', value: `job-${i}` },
        { key: 'llmops.dataset_sha256', value: `digest-${i}` },
      ],
    });
}

describe(`registry API on an in-memory MLflow (${testDbKind()})`, () => {
  let p: TestPlatform;
  let mlflow: InMemoryMlflow;
  let admin: Client;
  let editor: Client;
  let viewer: Client;

  beforeAll(async () => {
    mlflow = createInMemoryMlflow();
    p = await createTestPlatform({ mlflow });
    admin = p.as(p.adminToken, 'default');
    const projectId = (await admin.get(`${API}/whoami`)).body.data.project.id as string;
    editor = await member(admin, 'ed', 'editor', p);
    viewer = await member(admin, 'vi', 'viewer', p);
    await registerModel(mlflow, projectId, MODEL, 4);
    await registerModel(mlflow, '00000000-0000-4000-8000-000000000000', 'someone-elses-model', 1);
  });
  afterAll(() => p?.close());

  const alias = async (stage: string) => (await mlflow.getVersionByAlias(MODEL, stage))?.version ?? null;

  it("lists only the project's registered models, with search", async () => {
    const all = await viewer.get(`${API}/registry/models`);
    expect(all.status).toBe(200);
    expect(all.body.data.items.map((m: any) => m.name)).toEqual([MODEL]);
    expect(all.body.data.items[0]).toMatchObject({ latestVersion: '4', aliases: {} });
    const none = await viewer.get(`${API}/registry/models?search=qwen`);
    expect(none.body.data).toEqual({ items: [], nextPageToken: null });
    const other = await viewer.get(`${API}/registry/models/someone-elses-model`);
    expect(other.status).toBe(404);
    expect(other.body.message).toBe("Registered model 'someone-elses-model' not found");
  });

  it('lists versions newest first with lineage and the producing job', async () => {
    const r = await viewer.get(`${API}/registry/models/${MODEL}/versions`);
    expect(r.status).toBe(200);
    expect(r.body.data.items.map((v: any) => v.version)).toEqual(['4', '3', '2', '1']);
    expect(r.body.data.items[3]).toMatchObject({
      status: 'READY',
      runId: 'run1',
      lineage: { jobId: 'job-1', datasetDigest: 'digest-1', specHash: null, projectId: expect.any(String) },
      mlflowUrl: `${mlflow.baseUrl}/#/models/${MODEL}/versions/1`,
    });
  });

  it('promote to staging, promote a newer version, roll back: the alias follows each step', async () => {
    const first = await editor.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '1',
      stage: 'staging',
    });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({
      kind: 'promote',
      fromVersion: null,
      toVersion: '1',
      moved: true,
    });
    expect(await alias('staging')).toBe('1');
    const byAlias = await viewer.get(`${API}/registry/models/${MODEL}/aliases/staging`);
    expect(byAlias.body.data).toMatchObject({ version: '1', aliases: ['staging'] });

    const second = await editor.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '2',
      stage: 'staging',
    });
    expect(second.body.data).toMatchObject({ fromVersion: '1', toVersion: '2', moved: true });
    expect(second.body.message).toBe(`'staging' of '${MODEL}' moved from 1 to version 2`);
    expect(await alias('staging')).toBe('2');

    const back = await editor.post(`${API}/registry/models/${MODEL}/rollback`, { stage: 'staging' });
    expect(back.status).toBe(200);
    expect(back.body.data).toMatchObject({ kind: 'rollback', fromVersion: '2', toVersion: '1' });
    expect(await alias('staging')).toBe('1');

    const writes = mlflow.aliasWrites;
    const again = await editor.post(`${API}/registry/models/${MODEL}/rollback`, { stage: 'staging' });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(
      `Cannot roll back '${MODEL}': 'staging' had no version before version 1 was promoted: there is no previous version`,
    );
    expect(mlflow.aliasWrites).toBe(writes);

    const history = await viewer.get(`${API}/registry/models/${MODEL}/history?stage=staging`);
    expect(history.body.data.map((m: any) => `${m.kind}:${m.fromVersion}->${m.toVersion}`)).toEqual([
      'rollback:2->1',
      'promote:1->2',
      'promote:null->1',
    ]);
  });

  it('promoting to the version the alias already points at records nothing', async () => {
    const r = await editor.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '1',
      stage: 'staging',
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ id: null, moved: false, fromVersion: '1', toVersion: '1' });
    const history = await viewer.get(`${API}/registry/models/${MODEL}/history?stage=staging`);
    expect(history.body.data).toHaveLength(3);
  });

  it('roles: viewers read only, editors move dev and staging, only admins move prod', async () => {
    const v = await viewer.post(`${API}/registry/models/${MODEL}/promote`, { version: '1', stage: 'dev' });
    expect(v.status).toBe(403);
    const e = await editor.post(`${API}/registry/models/${MODEL}/promote`, { version: '3', stage: 'prod' });
    expect(e.status).toBe(403);
    expect(e.body.message).toBe(
      "Promoting to 'prod' needs the 'admin' role in project 'default'; you are 'editor'",
    );
    expect(await alias('prod')).toBeNull();
    const a = await admin.post(`${API}/registry/models/${MODEL}/promote`, { version: '3', stage: 'prod' });
    expect(a.status).toBe(200);
    expect(await alias('prod')).toBe('3');
    const er = await editor.post(`${API}/registry/models/${MODEL}/rollback`, { stage: 'prod' });
    expect(er.status).toBe(403);
  });

  it('refuses unknown models and versions, versions not READY and malformed bodies, moving nothing', async () => {
    const writes = mlflow.aliasWrites;
    const cases: [unknown, string, number, string | RegExp][] = [
      [{ version: '1', stage: 'dev' }, 'nope', 404, "Registered model 'nope' not found"],
      [{ version: '99', stage: 'dev' }, MODEL, 404, `Version 99 of registered model '${MODEL}' not found`],
      [{ version: '1', stage: 'production' }, MODEL, 400, /stage/],
      [{ version: 'v1', stage: 'dev' }, MODEL, 400, /version/],
      [{ version: '1', stage: 'dev', force: true }, MODEL, 400, /force/],
    ];
    for (const [body, name, status, message] of cases) {
      const r = await editor.post(`${API}/registry/models/${name}/promote`, body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.message).toMatch(message);
    }
    mlflow.setVersionStatus(MODEL, '4', 'PENDING_REGISTRATION');
    const pending = await editor.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '4',
      stage: 'dev',
    });
    expect(pending.status).toBe(409);
    expect(pending.body.message).toBe(
      `Version 4 of '${MODEL}' is PENDING_REGISTRATION; only READY versions can be promoted`,
    );
    mlflow.setVersionStatus(MODEL, '4', 'READY');
    const noAlias = await viewer.get(`${API}/registry/models/${MODEL}/aliases/dev`);
    expect(noAlias.status).toBe(404);
    expect(noAlias.body.message).toBe(`Alias 'dev' is not set on registered model '${MODEL}'`);
    expect(mlflow.aliasWrites).toBe(writes);
  });

  it('serialises concurrent moves of one alias: each move starts where the one before ended', async () => {
    const moves = await Promise.all(
      ['2', '3', '4'].map((version) =>
        editor.post(`${API}/registry/models/${MODEL}/promote`, { version, stage: 'dev' }),
      ),
    );
    expect(moves.map((m) => m.status)).toEqual([200, 200, 200]);
    const history = (
      await viewer.get(`${API}/registry/models/${MODEL}/history?stage=dev`)
    ).body.data.reverse();
    expect(history[0].fromVersion).toBeNull();
    for (let i = 1; i < history.length; i++) expect(history[i].fromVersion).toBe(history[i - 1].toVersion);
    expect(await alias('dev')).toBe(history.at(-1).toVersion);
  });

  it('writes every move to the audit log', async () => {
    const promotes = await admin.get(`${API}/audit?action=registry.model.promote`);
    const ok = promotes.body.data.items.filter((e: any) => e.result === 'success');
    expect(ok.length).toBeGreaterThanOrEqual(6);
    expect(ok[0]).toMatchObject({ targetType: 'registry_alias_move', statusCode: 200 });
    const rollbacks = await admin.get(`${API}/audit?action=registry.model.rollback`);
    expect(rollbacks.body.data.items.map((e: any) => e.statusCode)).toEqual(
      expect.arrayContaining([200, 409, 403]),
    );
  });

  it('answers 503 naming MLflow when it is down, and moves nothing', async () => {
    mlflow.down = true;
    try {
      const r = await editor.post(`${API}/registry/models/${MODEL}/promote`, { version: '1', stage: 'dev' });
      expect(r.status).toBe(503);
      expect(r.body.message).toMatch(/^MLflow at http:\/\/mlflow\.test is unavailable: fetch failed/);
      const list = await viewer.get(`${API}/registry/models`);
      expect(list.status).toBe(503);
    } finally {
      mlflow.down = false;
    }
    expect(await alias('dev')).not.toBe('1');
  });
});

describe(`promotion gates (${testDbKind()})`, () => {
  let p: TestPlatform;
  let mlflow: InMemoryMlflow;

  beforeAll(async () => {
    mlflow = createInMemoryMlflow();
    p = await createTestPlatform({
      mlflow,
      promotionGates: [
        {
          name: 'evaluation',
          check: ({ stage, version }) =>
            stage === 'prod' && version.version === '2'
              ? { allowed: false, reason: 'eval_loss 2.3 is above the 1.8 threshold' }
              : { allowed: true, reason: 'ok' },
        },
      ],
    });
    const admin = p.as(p.adminToken, 'default');
    const projectId = (await admin.get(`${API}/whoami`)).body.data.project.id as string;
    await registerModel(mlflow, projectId, MODEL, 2);
  });
  afterAll(() => p?.close());

  it('a refused promotion answers 409 with the gate and its reason and moves nothing', async () => {
    const admin = p.as(p.adminToken, 'default');
    expect(
      (await admin.post(`${API}/registry/models/${MODEL}/promote`, { version: '1', stage: 'prod' })).status,
    ).toBe(200);
    const writes = mlflow.aliasWrites;
    const r = await admin.post(`${API}/registry/models/${MODEL}/promote`, { version: '2', stage: 'prod' });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe(
      `Promotion of '${MODEL}' version 2 to 'prod' refused by gate 'evaluation': eval_loss 2.3 is above the 1.8 threshold`,
    );
    expect(r.body.data.details).toEqual({
      gate: 'evaluation',
      reason: 'eval_loss 2.3 is above the 1.8 threshold',
    });
    expect(mlflow.aliasWrites).toBe(writes);
    expect((await mlflow.getVersionByAlias(MODEL, 'prod'))?.version).toBe('1');
    const history = await admin.get(`${API}/registry/models/${MODEL}/history`);
    expect(history.body.data).toHaveLength(1);
    const audit = await admin.get(`${API}/audit?action=registry.model.promote`);
    expect(audit.body.data.items[0]).toMatchObject({ result: 'error', statusCode: 409 });
  });
});
