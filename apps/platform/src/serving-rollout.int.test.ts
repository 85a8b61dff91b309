import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServingRouter, createServingTelemetry, type ServingRuntime } from '@llmops/core';
import { connectTemporal, createTemporalDeploymentOrchestrator } from '@llmops/orchestration';
import {
  API,
  createTestPlatform,
  quickstartEndpointBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from '@llmops/server/testing';
import { testDbKind } from '@llmops/testing';
import { startWorker, type RunningWorker } from '@llmops/worker';
import {
  FakeExecutor,
  FakeProcessTable,
  startTemporalHarness,
  StubServingDriver,
  type TemporalHarness,
} from '@llmops/worker/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// Rollouts end to end: the API starts the rollout workflow on a real Temporal dev server, the worker's
// activities drive the serving driver, and inference goes through the platform's proxy to the replicas.
// The driver here is StubServingDriver (replicas are small HTTP servers that say which revision answered)
// so that traffic shares and rollbacks are exact and quick; local-serving.int.test.ts does the same with
// real model servers.

let harness: TemporalHarness;
beforeAll(async () => {
  harness = await startTemporalHarness();
}, 600_000);
afterAll(async () => harness?.stop());

interface World {
  p: TestPlatform;
  admin: Client;
  driver: StubServingDriver;
  runtime: ServingRuntime;
  versions: Record<string, string>;
  close(): Promise<void>;
}
const open: World[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

async function world(): Promise<World> {
  const taskQueue = `serving-${Math.random().toString(36).slice(2)}`;
  const temporal = await connectTemporal({ address: harness.server.address });
  const driver = new StubServingDriver();
  let runtime!: ServingRuntime;
  const p = await createTestPlatform({
    deployments: createTemporalDeploymentOrchestrator({ client: temporal.client, taskQueue }),
    servingRuntime: (db) =>
      (runtime = {
        driver,
        router: createServingRouter(db, { ttlMs: 200 }),
        telemetry: createServingTelemetry(),
      }),
  });
  const root = await mkdtemp(join(tmpdir(), 'llmops-serving-'));
  let worker: RunningWorker | null = null;
  try {
    worker = await startWorker({
      temporal: { address: harness.server.address },
      db: p.db,
      executor: new FakeExecutor(new FakeProcessTable(), () => ({ steps: 1, stepMs: 1, checkpointEvery: 1 })),
      runsDir: join(root, 'runs'),
      artifactsDir: join(root, 'artifacts'),
      maxConcurrentRuns: 1,
      taskQueue,
      workflowBundle: harness.bundle,
      serving: runtime,
    });
    const admin = p.as(p.adminToken);
    await seedQuickstart(admin);
    const versions: Record<string, string> = {};
    for (const v of ['2', '3']) {
      const m = await admin.post(`${API}/catalog/models`, {
        name: 'llama-3-8b-sft-v1',
        version: v,
        model_family: 'llama',
        max_position_embeddings: 8192,
        parameter_count: 8_000_000_000,
        storage_uri: `s3://models/llama-3-8b-sft-v1/${v}`,
      });
      expect(m.status, JSON.stringify(m.body)).toBe(201);
      versions[v] = m.body.data.id;
    }
    const w: World = {
      p,
      admin,
      driver,
      runtime,
      versions,
      async close() {
        await worker?.shutdown();
        await driver.close();
        await temporal.close();
        await p.close();
        await rm(root, { recursive: true, force: true });
      },
    };
    open.push(w);
    return w;
  } catch (e) {
    await worker?.shutdown();
    await temporal.close();
    await p.close();
    throw e;
  }
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const status = (w: World, id: string) =>
  w.admin.get(`${API}/serving/endpoints/${id}/status`).then((r) => {
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data;
  });

/** Creates the quickstart endpoint on model version 2 (canary 90/10 in its spec) and waits until it serves. */
async function readyEndpoint(w: World, spec: Record<string, unknown> = {}) {
  const body = quickstartEndpointBody(w.versions['2']!);
  const res = await w.admin.post(`${API}/serving/endpoints`, {
    ...body,
    deploymentSpec: { ...body.deploymentSpec, ...spec },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.data.id as string;
  await waitFor(
    'endpoint READY',
    () => status(w, id),
    (s) => s.status === 'READY',
  );
  return id;
}

const chat = (w: World, id: string, user?: string) =>
  w.p.app.inject({
    method: 'POST',
    url: `${API}/serving/endpoints/${id}/v1/chat/completions`,
    headers: { authorization: `Bearer ${w.p.adminToken}`, ...(user ? { 'x-llmops-user': user } : {}) },
    payload: { model: 'x', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 },
  });

describe(`rollouts through the platform (${testDbKind()})`, () => {
  it('deploys a new endpoint and answers a chat completion through the API and its route', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const st = await status(w, id);
    expect(st.revisions).toHaveLength(1);
    expect(st.revisions[0]).toMatchObject({ seq: 1, state: 'serving', traffic: 100, modelVersion: '2' });
    expect(st.revisions[0].backend.replicas[0].state).toBe('ready');
    const r = await chat(w, id);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().choices[0].message.content).toContain(st.revisions[0].id);
    expect(r.headers['x-llmops-revision']).toBe(st.revisions[0].id);
    const ep = await w.admin.get(`${API}/serving/endpoints/${id}`);
    const byRoute = await w.p.app.inject({
      method: 'POST',
      url: `${API}/serving/routes${ep.body.data.route}/v1/chat/completions`,
      headers: { authorization: `Bearer ${w.p.adminToken}` },
      payload: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(byRoute.statusCode, byRoute.body).toBe(200);
    const types = st.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['rollout.started', 'revision.ready', 'traffic.changed', 'rollout.promoted']),
    );
  }, 120_000);

  it('routes 10 % ± 3 % of 2,000 requests to the canary, then promotes it', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const r = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, {
      modelId: w.versions['3'],
      stepSeconds: 600,
      holdPreviousSeconds: 0,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const canary = r.body.data.id as string;
    await waitFor(
      'canary at 10 %',
      () => status(w, id),
      (s) => s.revisions.some((x: { id: string; traffic: number }) => x.id === canary && x.traffic === 10),
    );
    expect((await status(w, id)).rollout).toMatchObject({
      mode: 'canary',
      phase: 'holding',
      steps: [10, 100],
      newTraffic: 10,
    });
    w.runtime.router.invalidate(id);
    let toCanary = 0;
    for (let i = 0; i < 2000; i++) {
      const res = await chat(w, id);
      expect(res.statusCode).toBe(200);
      if (res.headers['x-llmops-revision'] === canary) toCanary++;
    }
    expect(toCanary / 2000).toBeGreaterThanOrEqual(0.07);
    expect(toCanary / 2000).toBeLessThanOrEqual(0.13);

    const pr = await w.admin.post(`${API}/serving/endpoints/${id}/promote`);
    expect(pr.status, JSON.stringify(pr.body)).toBe(202);
    const done = await waitFor(
      'promoted',
      () => status(w, id),
      (s) => s.status === 'READY',
    );
    const byId = Object.fromEntries(done.revisions.map((x: { id: string }) => [x.id, x]));
    expect(byId[canary]).toMatchObject({ state: 'serving', traffic: 100 });
    expect(done.revisions.find((x: { id: string }) => x.id !== canary)).toMatchObject({
      state: 'retired',
      traffic: 0,
    });
    expect(w.driver.running()).toEqual([canary]);
  }, 240_000);

  it('rolls a broken canary back automatically, with traffic back on the old version, and says why', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const old = (await status(w, id)).revisions[0].id as string;
    const r = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, {
      modelId: w.versions['3'],
      steps: [50],
      stepSeconds: 600,
      analysis: { windowSeconds: 10, checkIntervalSeconds: 1, minRequests: 5, maxErrorRate: 0.2 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const canary = r.body.data.id as string;
    await waitFor(
      'canary at 50 %',
      () => status(w, id),
      (s) => s.revisions.some((x: { id: string; traffic: number }) => x.id === canary && x.traffic === 50),
    );
    w.driver.breakRevision(canary);
    const started = Date.now();
    // Live traffic keeps flowing while the health watch decides.
    let rolledBack = false;
    while (!rolledBack && Date.now() - started < 60_000) {
      await Promise.all(Array.from({ length: 10 }, () => chat(w, id)));
      const s = await status(w, id);
      rolledBack = s.revisions.some(
        (x: { id: string; state: string }) => x.id === canary && x.state === 'rolled_back',
      );
    }
    expect(rolledBack).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
    const st = await waitFor(
      'READY again',
      () => status(w, id),
      (s) => s.status === 'READY',
    );
    expect(st.revisions.find((x: { id: string }) => x.id === old)).toMatchObject({
      state: 'serving',
      traffic: 100,
    });
    const unhealthy = st.events.find((e: { type: string }) => e.type === 'revision.unhealthy');
    expect(unhealthy.message).toMatch(/error rate .* is above 20\.0%/);
    expect(st.events.map((e: { type: string }) => e.type)).toContain('rollout.rolled_back');
    w.runtime.router.invalidate(id);
    for (let i = 0; i < 20; i++) expect((await chat(w, id)).headers['x-llmops-revision']).toBe(old);
    expect(w.driver.running()).toEqual([old]);
  }, 180_000);

  it('keeps the old version serving when the new one never becomes ready', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    w.driver.failStart('3');
    const r = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, {
      modelId: w.versions['3'],
      mode: 'blue-green',
    });
    expect(r.status).toBe(202);
    const st = await waitFor(
      'failed rollout',
      () => status(w, id),
      (s) => s.revisions.some((x: { state: string }) => x.state === 'failed'),
    );
    expect(st.status).toBe('READY');
    expect(st.revisions.find((x: { state: string }) => x.state === 'failed').message).toMatch(
      /model files are missing/,
    );
    expect((await chat(w, id)).statusCode).toBe(200);

    // A revision the backend refuses for good fails at once, without retries, and the old one serves on.
    w.driver.refuse('2');
    const refused = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, {
      mode: 'blue-green',
      modelId: w.versions['2'],
    });
    expect(refused.status).toBe(202);
    const after = await waitFor(
      'refused rollout',
      () => status(w, id),
      (s) =>
        s.revisions.some(
          (x: { id: string; state: string }) => x.id === refused.body.data.id && x.state === 'failed',
        ),
    );
    expect(after.revisions.find((x: { id: string }) => x.id === refused.body.data.id).message).toMatch(
      /refused the revision: InferenceService is invalid/,
    );
    expect(after.status).toBe('READY');
  }, 120_000);

  it('splits A/B by caller, holds until promoted, and refuses a second rollout meanwhile', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const r = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, {
      modelId: w.versions['3'],
      mode: 'ab',
      steps: [50],
    });
    expect(r.status).toBe(202);
    const b = r.body.data.id as string;
    await waitFor(
      'A/B at 50 %',
      () => status(w, id),
      (s) => s.revisions.some((x: { id: string; traffic: number }) => x.id === b && x.traffic === 50),
    );
    w.runtime.router.invalidate(id);
    const first = (await chat(w, id, 'alice')).headers['x-llmops-revision'];
    for (let i = 0; i < 10; i++)
      expect((await chat(w, id, 'alice')).headers['x-llmops-revision']).toBe(first);
    const again = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, { modelId: w.versions['3'] });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/being rolled out/);
    const rb = await w.admin.post(`${API}/serving/endpoints/${id}/rollback`, { reason: 'B converts worse' });
    expect(rb.status).toBe(202);
    const st = await waitFor(
      'rolled back',
      () => status(w, id),
      (s) => s.status === 'READY',
    );
    expect(st.events.find((e: { type: string }) => e.type === 'rollout.rolled_back').message).toMatch(
      /B converts worse/,
    );
  }, 120_000);

  it('mirrors traffic to a shadow revision without answering from it', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const old = (await status(w, id)).revisions[0].id as string;
    const r = await w.admin.post(`${API}/serving/endpoints/${id}/rollouts`, {
      modelId: w.versions['3'],
      mode: 'shadow',
    });
    const shadow = r.body.data.id as string;
    await waitFor(
      'shadowing',
      () => status(w, id),
      (s) => s.revisions.some((x: { id: string; shadow: boolean }) => x.id === shadow && x.shadow),
    );
    w.runtime.router.invalidate(id);
    for (let i = 0; i < 20; i++) expect((await chat(w, id)).headers['x-llmops-revision']).toBe(old);
    await waitFor(
      'copies counted',
      async () => w.runtime.telemetry.stats(shadow, 60).requests,
      (n) => n === 20,
    );
    const st = await status(w, id);
    expect(st.revisions.find((x: { id: string }) => x.id === shadow).health.requests).toBe(20);
  }, 120_000);

  it('answers 429 beyond max_concurrent_requests and 400 for max_tokens above max_output_tokens', async () => {
    const w = await world();
    const id = await readyEndpoint(w, {
      runtime: { max_concurrent_requests: 1, max_input_tokens: 4096, max_output_tokens: 16 },
    });
    const tooMany = await w.p.app.inject({
      method: 'POST',
      url: `${API}/serving/endpoints/${id}/v1/chat/completions`,
      headers: { authorization: `Bearer ${w.p.adminToken}` },
      payload: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 17 },
    });
    expect(tooMany.statusCode, tooMany.body).toBe(400);
    expect(tooMany.json().error.message).toMatch(
      /max_tokens 17 is above this endpoint's max_output_tokens \(16\)/,
    );
    const results = await Promise.all(Array.from({ length: 20 }, () => chat(w, id)));
    const codes = results.map((x) => x.statusCode);
    expect(codes).toContain(200);
    expect(codes).toContain(429);
    const limited = results.find((x) => x.statusCode === 429)!;
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json().error.code).toBe('too_many_concurrent_requests');
  }, 120_000);

  it('scales to two replicas without a gap, and answers from both', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const sc = await w.admin.post(`${API}/serving/endpoints/${id}/scale`, { replicas: 2 });
    expect(sc.status, JSON.stringify(sc.body)).toBe(202);
    const scaled = sc.body.data.id as string;
    expect(sc.body.data).toMatchObject({ replicas: 2, mode: 'blue-green', modelVersion: '2' });
    const st = await waitFor(
      'scaled',
      () => status(w, id),
      (s) =>
        s.status === 'READY' &&
        s.revisions.some((x: { id: string; traffic: number }) => x.id === scaled && x.traffic === 100),
    );
    expect(st.revisions[0].backend.replicas).toHaveLength(2);
    w.runtime.router.invalidate(id);
    const replicas = new Set<string>();
    for (let i = 0; i < 6; i++) replicas.add((await chat(w, id)).json().choices[0].message.content);
    expect(replicas).toEqual(new Set([`${scaled}/r0`, `${scaled}/r1`]));
    const same = await w.admin.post(`${API}/serving/endpoints/${id}/scale`, { replicas: 2 });
    expect(same.status).toBe(409);
    expect((await w.admin.post(`${API}/serving/endpoints/${id}/scale`, { replicas: 0 })).status).toBe(400);
  }, 120_000);

  it('deletes an endpoint: every replica stops and inference answers 404', async () => {
    const w = await world();
    const id = await readyEndpoint(w);
    const d = await w.admin.delete(`${API}/serving/endpoints/${id}`);
    expect(d.status, JSON.stringify(d.body)).toBe(202);
    await waitFor(
      'DELETED',
      () => w.admin.get(`${API}/serving/endpoints/${id}`),
      (r) => r.body.data?.status === 'DELETED',
    );
    expect(w.driver.running()).toEqual([]);
    await new Promise((r) => setTimeout(r, 1100)); // the proxy's endpoint cache
    expect((await chat(w, id)).statusCode).toBe(404);
  }, 120_000);
});
