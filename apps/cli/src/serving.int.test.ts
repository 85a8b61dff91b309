import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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
import { startWorker, type RunningWorker } from '@llmops/worker';
import {
  FakeExecutor,
  FakeProcessTable,
  startTemporalHarness,
  StubServingDriver,
  type TemporalHarness,
} from '@llmops/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { CliIO } from './context.ts';
import { runCli } from './run.ts';

// The serving commands against a platform whose rollouts run on a real Temporal dev server and whose model
// servers are StubServingDriver replicas (small HTTP servers that answer with the revision's id).

let harness: TemporalHarness;
let p: TestPlatform;
let admin: Client;
let driver: StubServingDriver;
let worker: RunningWorker | null = null;
let closeTemporal: () => Promise<void> = async () => {};
let url: string;
let dir: string;
const versions: Record<string, string> = {};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], io: Partial<CliIO> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
    env: {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      LLMOPS_HOME: join(dir, 'home'),
      LLMOPS_URL: url,
      LLMOPS_TOKEN: p.adminToken,
    },
    cwd: dir,
    onInterrupt: () => () => {},
    ...io,
  });
  return { code, stdout, stderr };
}

async function waitFor<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const status = async (id: string) => (await admin.get(`${API}/serving/endpoints/${id}/status`)).body.data;

let routes = 0;
/** A new endpoint on model version 2 (or the one given), once its first deployment has ended. */
async function endpoint(spec: Record<string, unknown> = {}, version = '2'): Promise<string> {
  const body = quickstartEndpointBody(versions[version]!);
  const res = await admin.post(`${API}/serving/endpoints`, {
    ...body,
    route: `/cli-${++routes}`,
    deploymentSpec: { ...body.deploymentSpec, ...spec },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.data.id as string;
  await waitFor(
    'first deployment',
    () => status(id),
    (s) => s.status === 'READY' || s.status === 'FAILED',
  );
  return id;
}

beforeAll(async () => {
  harness = await startTemporalHarness();
  const taskQueue = `cli-serving-${Math.random().toString(36).slice(2)}`;
  const temporal = await connectTemporal({ address: harness.server.address });
  closeTemporal = () => temporal.close();
  driver = new StubServingDriver();
  let runtime!: ServingRuntime;
  p = await createTestPlatform({
    deployments: createTemporalDeploymentOrchestrator({ client: temporal.client, taskQueue }),
    servingRuntime: (db) =>
      (runtime = {
        driver,
        router: createServingRouter(db, { ttlMs: 200 }),
        telemetry: createServingTelemetry(),
      }),
  });
  dir = await mkdtemp(join(tmpdir(), 'llmops-cli-serving-'));
  worker = await startWorker({
    temporal: { address: harness.server.address },
    db: p.db,
    executor: new FakeExecutor(new FakeProcessTable(), () => ({ steps: 1, stepMs: 1, checkpointEvery: 1 })),
    runsDir: join(dir, 'runs'),
    artifactsDir: join(dir, 'artifacts'),
    maxConcurrentRuns: 1,
    taskQueue,
    workflowBundle: harness.bundle,
    serving: runtime,
  });
  url = await p.app.listen({ port: 0, host: '127.0.0.1' });
  admin = p.as(p.adminToken);
  await seedQuickstart(admin);
  for (const v of ['2', '3', '4']) {
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
  driver.failStart('4');
}, 600_000);

afterAll(async () => {
  await worker?.shutdown();
  await driver?.close();
  await closeTemporal();
  await p?.close();
  await harness?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('llmops endpoints status|rollout|promote|rollback|events|delete', () => {
  it('status shows the serving revision with traffic, replicas and health, and the last events', async () => {
    const id = await endpoint();
    const rev = (await status(id)).revisions[0].id as string;
    for (let i = 0; i < 3; i++) expect((await cli(['chat', id, '-m', 'hi'])).code).toBe(0);
    const r = await cli(['endpoints', 'status', id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^endpoint: +${id}$`, 'm'));
    expect(r.stdout).toMatch(/^status: +READY$/m);
    expect(r.stdout).toMatch(/^rollout: +none under way$/m);
    expect(r.stdout).toMatch(
      /^SEQ +REVISION +MODEL VERSION +MODE +STATE +TRAFFIC +REPLICAS +REQUESTS +ERRORS +P95/m,
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `^1 +${rev.slice(0, 8)} +llama-3-8b-sft-v1 v2 +\\S+ +serving +100% +1/1 +3 +0\\.0% +\\d+ ms`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(/^Last events:\nSEQ +TIME +TYPE/m);
    expect(r.stdout).toMatch(/ rollout\.promoted +\S+ +the new revision serves all traffic$/m);
    const json = JSON.parse((await cli(['endpoints', 'status', id, '-o', 'json'])).stdout);
    expect(json.revisions[0]).toMatchObject({ id: rev, traffic: 100, health: { requests: 3 } });
    const missing = await cli(['endpoints', 'status', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Serving endpoint .* not found/);
  }, 120_000);

  it('rollout --wait follows the events as they happen and exits 0 once promoted', async () => {
    const id = await endpoint();
    const r = await cli([
      'endpoints',
      'rollout',
      id,
      '--model-id',
      versions['3']!,
      '--mode',
      'blue-green',
      '--hold-seconds',
      '0',
      '--wait',
      '--interval',
      '0.2',
    ]);
    expect(r.stderr).toMatch(/Following its events/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^Revision 2 is being rolled out \(blue-green: 100 %\): revision [0-9a-f-]{36}$/,
    );
    const types = lines
      .slice(1)
      .map((l) => l.split(/ {2}/)[2])
      .filter(Boolean);
    expect(types[0]).toBe('rollout.started');
    expect(types).toEqual(expect.arrayContaining(['revision.ready', 'traffic.changed']));
    expect(types.at(-1)).toBe('rollout.promoted');
    expect(r.stdout).toMatch(/\nRollout of revision 2 promoted: the new revision serves all traffic\n$/);
    const st = await status(id);
    expect(st.revisions.find((x: any) => x.seq === 2)).toMatchObject({ modelVersion: '3', traffic: 100 });
  }, 120_000);

  it('rollout --wait exits 1 when the new version never becomes ready; the old one keeps serving', async () => {
    const id = await endpoint();
    const r = await cli([
      'endpoints',
      'rollout',
      id,
      '--model-id',
      versions['4']!,
      '--wait',
      '--interval',
      '0.2',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/ rollout\.failed +\S+ +the new revision failed: .*model files are missing/);
    expect(r.stdout).toMatch(/Rollout of revision 2 failed: the previous revision serves\n$/);
    expect((await cli(['chat', id, '-m', 'still there?'])).code).toBe(0);
  }, 120_000);

  it('a canary from a spec file holds at its step, status shows the rollout, promote finishes it', async () => {
    const id = await endpoint();
    const spec = {
      ...quickstartEndpointBody('').deploymentSpec,
      runtime: { max_concurrent_requests: 64, max_input_tokens: 2048, max_output_tokens: 256 },
    };
    await writeFile(join(dir, 'spec.yaml'), YAML.stringify(spec));
    const r = await cli([
      'endpoints',
      'rollout',
      id,
      '-f',
      'spec.yaml',
      '--model-id',
      versions['3']!,
      '--mode',
      'canary',
      '--steps',
      '25',
      '--step-seconds',
      '600',
      '--hold-seconds',
      '0',
    ]);
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Revision 2 is being rolled out \(canary: 25 → 100 %\)$/m);
    const canary = /^revision: +(\S+)$/m.exec(r.stdout)![1]!;
    await waitFor(
      'canary at 25 %',
      () => status(id),
      (s) => s.revisions.some((x: any) => x.id === canary && x.traffic === 25),
    );
    const st = await cli(['endpoints', 'status', id]);
    expect(st.stdout).toMatch(
      new RegExp(
        `^rollout: +canary · holding · step 1 of 2 \\(25% → 100%\\) · 25% on revision ${canary.slice(0, 8)}$`,
        'm',
      ),
    );
    expect(st.stdout).toMatch(/^2 +\S+ +llama-3-8b-sft-v1 v3 +canary +\S+ +25% +1\/1 /m);
    expect(st.stdout).toMatch(/^1 +\S+ +llama-3-8b-sft-v1 v2 +\S+ +serving +75% +1\/1 /m);
    const stored = await admin.get(`${API}/serving/endpoints/${id}/status`);
    expect(stored.status).toBe(200);

    const pr = await cli(['endpoints', 'promote', id]);
    expect(pr).toMatchObject({ code: 0, stderr: '' });
    expect(pr.stdout).toMatch(/^Revision 2 is being promoted$/m);
    await waitFor(
      'promoted',
      () => status(id),
      (s) => s.status === 'READY' && s.revisions.some((x: any) => x.id === canary && x.traffic === 100),
    );
  }, 120_000);

  it('rollback --reason puts traffic back and the reason shows in the events', async () => {
    const id = await endpoint();
    const r = await cli([
      'endpoints',
      'rollout',
      id,
      '--model-id',
      versions['3']!,
      '--mode',
      'ab',
      '--steps',
      '50',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const b = /^revision: +(\S+)$/m.exec(r.stdout)![1]!;
    await waitFor(
      'A/B at 50 %',
      () => status(id),
      (s) => s.revisions.some((x: any) => x.id === b && x.traffic === 50),
    );
    const rb = await cli(['endpoints', 'rollback', id, '--reason', 'B answers worse']);
    expect(rb).toMatchObject({ code: 0, stderr: '' });
    expect(rb.stdout).toMatch(/^Revision 2 is being rolled back$/m);
    await waitFor(
      'rolled back',
      () => status(id),
      (s) => s.status === 'READY' && s.revisions.some((x: any) => x.id === b && x.state === 'rolled_back'),
    );
    const ev = await cli(['endpoints', 'events', id]);
    expect(ev.stdout).toMatch(/^SEQ +TIME +TYPE +REVISION +MESSAGE$/m);
    expect(ev.stdout).toMatch(
      / rollout\.rolled_back +\S+ +rolled back: B answers worse; the previous revision keeps serving$/m,
    );
    const after = JSON.parse((await cli(['endpoints', 'events', id, '--after', '3', '-o', 'json'])).stdout);
    expect(after.every((e: any) => e.seq > 3)).toBe(true);

    const none = await cli(['endpoints', 'promote', id]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: /);
  }, 120_000);

  it('refuses bad options without changing anything', async () => {
    const id = await endpoint();
    const steps = await cli(['endpoints', 'rollout', id, '--steps', '50,10']);
    expect(steps.code).toBe(2);
    expect(steps.stderr).toMatch(
      /option '--steps <list>' argument '50,10' is invalid\. the steps must increase/,
    );
    const mode = await cli(['endpoints', 'rollout', id, '--mode', 'big-bang']);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/Allowed choices are blue-green, canary, shadow, ab/);
    const missing = await cli(['endpoints', 'rollout', id, '-f', 'nope.yaml']);
    expect(missing).toMatchObject({ code: 1, stderr: 'error: Cannot read nope.yaml: no such file\n' });
    const model = await cli(['endpoints', 'rollout', id, '--model-id', 'no-such-model']);
    expect(model.code).toBe(1);
    expect(model.stderr).toMatch(/^error: /);
    expect((await status(id)).revisions).toHaveLength(1);
  }, 120_000);

  it('events -f prints events as they happen and ends when delete --yes has removed the endpoint', async () => {
    const id = await endpoint();
    const refused = await cli(['endpoints', 'delete', id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/stops every model server of it; add --yes to confirm/);
    expect((await status(id)).status).toBe('READY');

    let stop: () => void = () => {};
    const following = cli(['endpoints', 'events', id, '-f', '--interval', '0.2'], {
      onInterrupt: (fn) => {
        stop = fn;
        return () => {};
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    const del = await cli(['endpoints', 'delete', id, '--yes']);
    expect(del).toMatchObject({ code: 0, stderr: '' });
    expect(del.stdout).toMatch(new RegExp(`^Endpoint is being deleted: ${id} \\(DELETING\\)$`, 'm'));
    const timer = setTimeout(() => stop(), 30_000);
    const f = await following;
    clearTimeout(timer);
    expect(f.code, f.stdout + f.stderr).toBe(0);
    const lines = f.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+ {2}\S+ \S+ {2}rollout\.started {2}/);
    expect(lines.at(-1)).toMatch(
      / {2}endpoint\.deleted {2}- {2}every model server of the endpoint was stopped$/,
    );
    const seqs = lines.map((l) => Number(l.split(' ')[0]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 120_000);
});

describe('llmops chat', () => {
  let id: string;
  beforeAll(async () => {
    id = await endpoint({
      runtime: { max_concurrent_requests: 8, max_input_tokens: 4096, max_output_tokens: 16 },
    });
  }, 60_000);

  it('--message streams the answer by id and by route, or waits for it whole', async () => {
    const rev = (await status(id)).revisions[0].id as string;
    const streamed = await cli(['chat', id, '--message', 'hello', '--max-tokens', '8', '--temperature', '0']);
    expect(streamed).toEqual({ code: 0, stdout: `${rev}/r0\n`, stderr: '' });
    const route = (await admin.get(`${API}/serving/endpoints/${id}`)).body.data.route as string;
    expect((await cli(['chat', route, '-m', 'hello', '--system', 'Be brief.'])).stdout).toBe(`${rev}/r0\n`);
    expect((await cli(['chat', id, '-m', 'hello', '--no-stream'])).stdout).toBe(`${rev}/r0\n`);
    const json = JSON.parse((await cli(['chat', id, '-m', 'hello', '-o', 'json'])).stdout);
    expect(json).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { content: `${rev}/r0` } }],
    });
  });

  it('keeps a conversation over the lines it reads', async () => {
    const r = await cli(['chat', id], {
      stdin: Readable.from(['first\n', '\n', 'second\n', '/exit\n', 'never\n']),
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('explains 400, 404 and 503 with the server message and exits 1', async () => {
    const tooLong = await cli(['chat', id, '-m', 'hello', '--max-tokens', '17']);
    expect(tooLong).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "error: max_tokens 17 is above this endpoint's max_output_tokens (16) (400 max_output_tokens_exceeded)\n",
    });
    const unknown = await cli(['chat', '/no-such-route', '-m', 'hello']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^error: No serving endpoint at route '\/no-such-route' \(404 endpoint_not_found\)\nhint: `llmops endpoints list`/,
    );
    const broken = await endpoint({}, '4');
    expect((await status(broken)).status).toBe('FAILED');
    const down = await cli(['chat', broken, '-m', 'hello']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/\(503 not_ready; retry after 5 s\)\n/);
    const bad = await cli(['chat', id, '-m', 'hello', '--temperature', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a number from 0 to 2, got '3'/);
  });
});
