import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartEndpointBody,
  quickstartJobBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

type Need = 'public' | 'any' | 'viewer' | 'editor' | 'admin' | 'orgAdmin';
interface RouteCase {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A Server-Sent Events stream: only checked where access is refused (an allowed stream stays open). */
  stream?: boolean;
  /** The answer once the role check passes when it is not a success: job controls without the workflow engine (503), a retry of a QUEUED job (409). */
  allowedStatus?: number;
  path: string;
  need: Need;
  /** Reads or writes a resource of the project named in the URL/body (cross-project must be 404). */
  resource?: boolean;
  body?: () => unknown;
}

/**
 * Every documented route and the least role it needs. The coverage test below fails when a route is
 * added without a row here, so the matrix cannot silently fall behind.
 */
function matrix(a: {
  jobId: string;
  endpointId: string;
  modelId: string;
  datasetId: string;
  sftModelId: string;
  viewerId: string;
}): RouteCase[] {
  return [
    { method: 'GET', path: '/health', need: 'public' },
    { method: 'GET', path: '/health/ready', need: 'public' },
    { method: 'GET', path: '/health/live', need: 'public' },
    { method: 'GET', path: '/whoami', need: 'any' },
    { method: 'GET', path: '/organisations', need: 'any' },
    {
      method: 'POST',
      path: '/organisations',
      need: 'orgAdmin',
      body: () => ({ slug: `org-${Math.random().toString(36).slice(2, 8)}`, name: 'x' }),
    },
    { method: 'GET', path: '/projects', need: 'any' },
    {
      method: 'POST',
      path: '/projects',
      need: 'any',
      body: () => ({ slug: `p-${Math.random().toString(36).slice(2, 8)}`, name: 'x' }),
    },
    { method: 'GET', path: '/members', need: 'viewer' },
    { method: 'POST', path: '/members', need: 'admin', body: () => ({ name: 'someone', role: 'viewer' }) },
    { method: 'DELETE', path: `/members/${a.viewerId}`, need: 'admin', resource: true },
    { method: 'GET', path: '/tokens', need: 'any' },
    { method: 'POST', path: '/tokens', need: 'viewer', body: () => ({ name: 'ci' }) },
    { method: 'DELETE', path: '/tokens/00000000-0000-0000-0000-000000000000', need: 'any', resource: true },
    {
      method: 'POST',
      path: '/catalog/models',
      need: 'editor',
      body: () => ({
        name: `m-${Math.random()}`,
        model_family: 'llama',
        max_position_embeddings: 2048,
        parameter_count: 1000000,
      }),
    },
    { method: 'GET', path: '/catalog/models', need: 'viewer' },
    { method: 'GET', path: `/catalog/models/${a.modelId}`, need: 'viewer', resource: true },
    {
      method: 'POST',
      path: '/catalog/datasets',
      need: 'editor',
      body: () => ({ name: `d-${Math.random()}`, version: 'v1', type: 'sft_pair', storage_uri: 's3://b/k' }),
    },
    { method: 'GET', path: '/catalog/datasets', need: 'viewer' },
    { method: 'GET', path: `/catalog/datasets/${a.datasetId}`, need: 'viewer', resource: true },
    {
      method: 'POST',
      path: '/training/jobs',
      need: 'editor',
      resource: true,
      body: () => quickstartJobBody(a.modelId, a.datasetId),
    },
    {
      method: 'POST',
      path: '/training/jobs/validate',
      need: 'viewer',
      resource: true,
      body: () => quickstartJobBody(a.modelId, a.datasetId),
    },
    { method: 'POST', path: '/training/jobs/revalidate', need: 'admin' },
    { method: 'GET', path: '/training/jobs', need: 'viewer' },
    { method: 'GET', path: `/training/jobs/${a.jobId}`, need: 'viewer', resource: true },
    { method: 'GET', path: `/training/jobs/${a.jobId}/events`, need: 'viewer', resource: true },
    { method: 'GET', path: '/training/gpu-types', need: 'any' },
    { method: 'GET', path: '/governance/policies', need: 'any' },
    { method: 'GET', path: '/integrations', need: 'any' },
    {
      method: 'POST',
      path: `/training/jobs/${a.jobId}/cancel`,
      need: 'editor',
      resource: true,
      allowedStatus: 503,
    },
    {
      method: 'POST',
      path: `/training/jobs/${a.jobId}/pause`,
      need: 'editor',
      resource: true,
      allowedStatus: 503,
    },
    {
      method: 'POST',
      path: `/training/jobs/${a.jobId}/resume`,
      need: 'editor',
      resource: true,
      allowedStatus: 503,
    },
    {
      method: 'POST',
      path: `/training/jobs/${a.jobId}/retry`,
      need: 'editor',
      resource: true,
      allowedStatus: 409,
      body: () => ({}),
    },
    {
      method: 'PATCH',
      path: `/training/jobs/${a.jobId}/priority`,
      need: 'editor',
      resource: true,
      allowedStatus: 503,
      body: () => ({ priority: 70 }),
    },
    { method: 'GET', path: `/training/jobs/${a.jobId}/logs`, need: 'viewer', resource: true },
    {
      method: 'GET',
      path: `/training/jobs/${a.jobId}/logs/stream`,
      need: 'viewer',
      resource: true,
      stream: true,
    },
    {
      method: 'POST',
      path: '/serving/endpoints',
      need: 'editor',
      resource: true,
      body: () => ({
        ...quickstartEndpointBody(a.sftModelId),
        route: `/r-${Math.random().toString(36).slice(2, 8)}`,
      }),
    },
    {
      method: 'POST',
      path: '/serving/endpoints/validate',
      need: 'viewer',
      resource: true,
      body: () => quickstartEndpointBody(a.sftModelId),
    },
    { method: 'POST', path: '/serving/endpoints/revalidate', need: 'admin' },
    { method: 'GET', path: '/serving/endpoints', need: 'viewer' },
    { method: 'GET', path: `/serving/endpoints/${a.endpointId}`, need: 'viewer', resource: true },
    { method: 'GET', path: `/serving/endpoints/${a.endpointId}/deployment`, need: 'viewer', resource: true },
    // Rollouts and inference: this platform has no workflow engine and no serving backend, so the calls a
    // role may make end in the service's own answer (no files to serve, nothing under way, 503).
    { method: 'GET', path: `/serving/endpoints/${a.endpointId}/status`, need: 'viewer', resource: true },
    { method: 'GET', path: `/serving/endpoints/${a.endpointId}/events`, need: 'viewer', resource: true },
    {
      method: 'POST',
      path: `/serving/endpoints/${a.endpointId}/rollouts`,
      need: 'editor',
      resource: true,
      allowedStatus: 422,
      body: () => ({}),
    },
    {
      method: 'POST',
      path: `/serving/endpoints/${a.endpointId}/scale`,
      need: 'editor',
      resource: true,
      allowedStatus: 409,
      body: () => ({ replicas: 2 }),
    },
    {
      method: 'POST',
      path: `/serving/endpoints/${a.endpointId}/promote`,
      need: 'editor',
      resource: true,
      allowedStatus: 409,
    },
    {
      method: 'POST',
      path: `/serving/endpoints/${a.endpointId}/rollback`,
      need: 'editor',
      resource: true,
      allowedStatus: 409,
      body: () => ({}),
    },
    {
      method: 'DELETE',
      path: `/serving/endpoints/${a.endpointId}`,
      need: 'editor',
      resource: true,
      allowedStatus: 503,
    },
    ...['chat/completions', 'completions', 'embeddings'].map((op) => ({
      method: 'POST' as const,
      path: `/serving/endpoints/${a.endpointId}/v1/${op}`,
      need: 'viewer' as const,
      resource: true,
      allowedStatus: 503,
      body: () => ({ messages: [{ role: 'user', content: 'hi' }] }),
    })),
    {
      method: 'POST',
      path: `/serving/routes/${a.endpointId}`,
      need: 'viewer',
      allowedStatus: 404,
      body: () => ({}),
    },
    // Registry and experiments answer 503 here: this platform runs without MLflow. Model and alias names
    // are shaped like ids so that the coverage check matches them with the documented path parameters.
    { method: 'GET', path: '/registry/models', need: 'viewer', allowedStatus: 503 },
    { method: 'GET', path: `/registry/models/${REG_MODEL}`, need: 'viewer', allowedStatus: 503 },
    { method: 'GET', path: `/registry/models/${REG_MODEL}/versions`, need: 'viewer', allowedStatus: 503 },
    { method: 'GET', path: `/registry/models/${REG_MODEL}/history`, need: 'viewer', allowedStatus: 503 },
    {
      method: 'GET',
      path: `/registry/models/${REG_MODEL}/aliases/${REG_MODEL}`,
      need: 'viewer',
      allowedStatus: 503,
    },
    {
      method: 'POST',
      path: `/registry/models/${REG_MODEL}/promote`,
      need: 'editor',
      allowedStatus: 503,
      body: () => ({ version: '1', stage: 'staging' }),
    },
    {
      method: 'POST',
      path: `/registry/models/${REG_MODEL}/promote`,
      need: 'admin',
      allowedStatus: 503,
      body: () => ({ version: '1', stage: 'prod' }),
    },
    {
      method: 'POST',
      path: `/registry/models/${REG_MODEL}/rollback`,
      need: 'editor',
      allowedStatus: 503,
      body: () => ({ stage: 'dev' }),
    },
    {
      method: 'POST',
      path: `/registry/models/${REG_MODEL}/rollback`,
      need: 'admin',
      allowedStatus: 503,
      body: () => ({ stage: 'prod' }),
    },
    { method: 'GET', path: '/experiments/runs', need: 'viewer', allowedStatus: 503 },
    {
      method: 'POST',
      path: '/experiments/compare',
      need: 'viewer',
      allowedStatus: 503,
      body: () => ({ run_ids: ['r1', 'r2'] }),
    },
    // Experiment tracking answers 503 here too (no MLflow): after the role and project checks.
    {
      method: 'GET',
      path: `/training/jobs/${a.jobId}/experiment-run`,
      need: 'viewer',
      resource: true,
      allowedStatus: 503,
    },
    { method: 'POST', path: '/tracking/backfill', need: 'admin', allowedStatus: 503, body: () => ({}) },
    {
      method: 'POST',
      path: '/tracking/backfill',
      need: 'orgAdmin',
      allowedStatus: 503,
      body: () => ({ all_projects: true }),
    },
    { method: 'GET', path: '/audit', need: 'admin' },
    { method: 'GET', path: '/audit/verify', need: 'orgAdmin' },
  ];
}

const REG_MODEL = '0e5a1e00-0000-4000-8000-00000000cafe';

const RANK: Record<string, number> = { viewer: 1, editor: 2, admin: 3 };

describe(`access matrix over every route (${testDbKind()})`, () => {
  let p: TestPlatform;
  let a: Parameters<typeof matrix>[0];
  const tokens: Record<string, string> = {};
  let rows: RouteCase[];

  beforeAll(async () => {
    p = await createTestPlatform();
    const root = p.as(p.adminToken);
    await root.post(`${API}/projects`, { slug: 'team-a', name: 'A' });
    await root.post(`${API}/projects`, { slug: 'team-b', name: 'B' });
    const inA = p.as(p.adminToken, 'team-a');
    const inB = p.as(p.adminToken, 'team-b');
    const seeded = await seedQuickstart(inA);
    await seedQuickstart(inB);
    const job = await inA.post(`${API}/training/jobs`, quickstartJobBody(seeded.modelId, seeded.datasetId));
    const ep = await inA.post(`${API}/serving/endpoints`, quickstartEndpointBody(seeded.sftModelId));
    const user = async (client: Client, name: string, role: string) => {
      const m = await client.post(`${API}/members`, { name, role });
      const t = await client.post(`${API}/tokens`, { name: `${name}-token`, userId: m.body.data.userId });
      tokens[name] = t.body.data.token;
      return m.body.data.userId as string;
    };
    const viewerId = await user(inA, 'viewerA', 'viewer');
    await user(inA, 'editorA', 'editor');
    await user(inA, 'adminA', 'admin');
    await user(inB, 'adminB', 'admin');
    a = { ...seeded, jobId: job.body.data.id, endpointId: ep.body.data.id, viewerId };
    rows = matrix(a);
  });
  afterAll(() => p.close());

  const call = (token: string | null, project: string | null, r: RouteCase) =>
    p.app.inject({
      method: r.method,
      url: `${API}${r.path}`,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(project ? { 'x-project': project } : {}),
      },
      ...(r.body ? { payload: r.body() as object } : {}),
    });

  it('covers every documented route', async () => {
    const spec = (await p.app.inject({ method: 'GET', url: `${API}/openapi.json` })).json();
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) =>
        Object.keys(ops).map(
          (m) => `${m.toUpperCase()} ${path.replace(API, '').replace(/\{[^}]+\}/g, ':p')}`,
        ),
    );
    const covered = new Set(rows.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':p')}`));
    expect(documented.filter((d) => !covered.has(d))).toEqual([]);
  });

  it('without a token every non-public route answers 401', async () => {
    for (const r of rows.filter((x) => x.need !== 'public')) {
      const res = await call(null, null, r);
      expect(res.statusCode, `${r.method} ${r.path}`).toBe(401);
    }
  });

  it('a member of project B cannot see or touch anything of project A (404, never 403)', async () => {
    for (const r of rows.filter((x) => ['viewer', 'editor', 'admin'].includes(x.need))) {
      const res = await call(tokens.adminB!, 'team-a', r);
      expect(res.statusCode, `${r.method} ${r.path} with X-Project team-a`).toBe(404);
      expect(res.json().message).toBe("Project 'team-a' not found");
    }
    for (const r of rows.filter((x) => x.resource && x.method === 'GET')) {
      const res = await call(tokens.adminB!, 'team-b', r);
      expect(res.statusCode, `${r.method} ${r.path} from team-b`).toBe(404);
    }
    // Writes that reference A's catalog from B fail B's own lookups: nothing of A is reachable.
    const submit = await call(
      tokens.adminB!,
      'team-b',
      rows.find((r) => r.path === '/training/jobs' && r.method === 'POST')!,
    );
    expect(submit.statusCode).toBe(422);
    expect(submit.json().data.violations.map((v: any) => v.code)).toEqual(
      expect.arrayContaining(['MODEL_NOT_FOUND', 'DATASET_NOT_FOUND']),
    );
    const listB = await call(tokens.adminB!, 'team-b', {
      method: 'GET',
      path: '/training/jobs',
      need: 'viewer',
    });
    expect(listB.json().data.items.map((j: any) => j.id)).not.toContain(a.jobId);
  });

  it.each(['viewerA', 'editorA', 'adminA'])(
    '%s gets exactly the routes its role allows in project A',
    async (who) => {
      const role = who.replace('A', '').toLowerCase();
      for (const r of rows.filter((x) => ['viewer', 'editor', 'admin'].includes(x.need))) {
        if (r.method === 'DELETE' && r.path.startsWith('/members') && who === 'adminA') continue; // would remove the viewer used by the other cases
        const allowed = RANK[role]! >= RANK[r.need]!;
        if (allowed && r.stream) continue;
        const res = await call(tokens[who]!, 'team-a', r);
        if (allowed)
          expect(res.statusCode, `${who} ${r.method} ${r.path}: ${res.body}`).toBe(
            r.allowedStatus ?? (res.statusCode < 400 ? res.statusCode : -1),
          );
        else expect(res.statusCode, `${who} ${r.method} ${r.path}`).toBe(403);
      }
    },
  );

  it('organisation-wide routes refuse project members who are not organisation administrators', async () => {
    for (const r of rows.filter((x) => x.need === 'orgAdmin')) {
      const res = await call(tokens.adminA!, 'team-a', r);
      expect(res.statusCode, `${r.method} ${r.path}`).toBe(403);
    }
  });
});
