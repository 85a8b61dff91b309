import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartJobBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

describe(`bad input gets the envelope, the right status and changes nothing (${testDbKind()})`, () => {
  let p: TestPlatform;
  let admin: Client;
  let ids: Awaited<ReturnType<typeof seedQuickstart>>;

  beforeAll(async () => {
    p = await createTestPlatform({ bodyLimitBytes: 64 * 1024 });
    admin = p.as(p.adminToken);
    ids = await seedQuickstart(admin);
  });
  afterAll(() => p.close());

  const jobsTotal = async () => (await admin.get(`${API}/training/jobs`)).body.data.total as number;
  const raw = (payload: string, headers: Record<string, string> = {}) =>
    p.app.inject({
      method: 'POST',
      url: `${API}/training/jobs`,
      payload,
      headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json', ...headers },
    });

  it('malformed JSON → 400 INVALID_JSON', async () => {
    const res = await raw('{"jobType": "finetune",');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 'error', data: { code: 'INVALID_JSON' } });
    expect(res.json().message).toMatch(/Malformed JSON/);
  });

  it('a body that is not JSON → 415', async () => {
    const res = await raw('jobType=finetune', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.statusCode).toBe(415);
    expect(res.json().data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('oversized body → 413', async () => {
    const big = quickstartJobBody(ids.modelId, ids.datasetId) as any;
    big.description = 'x'.repeat(70 * 1024);
    const res = await raw(JSON.stringify(big));
    expect(res.statusCode).toBe(413);
    expect(res.json().data.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('wrong types, missing and unknown fields → 400 with every violation and its JSON path', async () => {
    const b = quickstartJobBody(ids.modelId, ids.datasetId) as any;
    b.trainJobSpec.hyperparams.batch_size = 'four';
    delete b.trainJobSpec.output;
    b.trainJobSpec.learning_rate = 0.1;
    const res = await admin.post(`${API}/training/jobs`, b);
    expect(res.status).toBe(400);
    expect(res.body.data.code).toBe('BAD_REQUEST');
    const v = res.body.data.violations.map((x: any) => `${x.code} ${x.path}`);
    expect(v).toEqual(
      expect.arrayContaining([
        'SCHEMA_INVALID_TYPE trainJobSpec.hyperparams.batch_size',
        'SCHEMA_REQUIRED trainJobSpec.output',
        'SCHEMA_UNKNOWN_FIELD trainJobSpec.learning_rate',
      ]),
    );
  });

  it('an unknown submission kind names the allowed kinds', async () => {
    const res = await admin.post(`${API}/training/jobs`, {
      ...quickstartJobBody(ids.modelId, ids.datasetId),
      jobType: 'distill',
    });
    expect(res.status).toBe(400);
    expect(res.body.data.violations[0].path).toBe('jobType');
  });

  it('a request that chooses its own image → IMAGE_OVERRIDE_FORBIDDEN', async () => {
    const b = quickstartJobBody(ids.modelId, ids.datasetId) as any;
    b.trainJobSpec.train_image = 'evil/miner:1.0';
    const res = await admin.post(`${API}/training/jobs`, b);
    expect(res.status).toBe(400);
    expect(res.body.data.violations).toContainEqual(
      expect.objectContaining({ code: 'IMAGE_OVERRIDE_FORBIDDEN', path: 'trainJobSpec.train_image' }),
    );
  });

  it.each([
    ['no token', undefined, 401, 'UNAUTHORIZED'],
    ['a bad token', 'Bearer llmops_notatoken', 401, 'UNAUTHORIZED'],
    ['a malformed header', 'Token abc', 401, 'UNAUTHORIZED'],
  ])('%s → %i', async (_n, authorization, status, code) => {
    const res = await p.app.inject({
      method: 'GET',
      url: `${API}/training/jobs`,
      headers: authorization ? { authorization } : {},
    });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ status: 'error', data: { code } });
  });

  it('an unknown project → 404 without saying whether it exists', async () => {
    const res = await p.as(p.adminToken, 'no-such-project').get(`${API}/training/jobs`);
    expect(res.status).toBe(404);
    expect(res.body.message).toBe("Project 'no-such-project' not found");
  });

  it('an unknown route and an unknown job → 404 envelopes', async () => {
    expect((await admin.get(`${API}/nope`)).body).toMatchObject({
      status: 'error',
      data: { code: 'NOT_FOUND' },
    });
    const res = await admin.get(`${API}/training/jobs/00000000-0000-0000-0000-000000000000`);
    expect(res.status).toBe(404);
    expect((await admin.get(`${API}/training/jobs/not-a-uuid`)).status).toBe(404);
  });

  it('bad query parameters → 400 naming the parameter', async () => {
    const res = await admin.get(`${API}/training/jobs?limit=0&status=DONE`);
    expect(res.status).toBe(400);
    const paths = res.body.data.violations.map((v: any) => v.path);
    expect(paths).toEqual(expect.arrayContaining(['query.limit', 'query.status']));
  });

  it('none of the bad requests above stored a job', async () => {
    expect(await jobsTotal()).toBe(0);
  });
});
