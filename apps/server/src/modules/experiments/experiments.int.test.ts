import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryMlflow, type InMemoryMlflow } from '@llmops/core';
import { testDbKind } from '@llmops/testing';
import { API, createTestPlatform, type Client, type TestPlatform } from '../../testing/test-platform.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);

describe(`experiments API on an in-memory MLflow (${testDbKind()})`, () => {
  let p: TestPlatform;
  let mlflow: InMemoryMlflow;
  let client: Client;
  const runs: Record<string, string> = {};

  beforeAll(async () => {
    mlflow = createInMemoryMlflow();
    p = await createTestPlatform({ mlflow });
    client = p.as(p.adminToken, 'default');
    const projectId = (await client.get(`${API}/whoami`)).body.data.project.id as string;
    const experimentId = await mlflow.createExperiment('default/default');
    const make = async (
      key: string,
      o: {
        day: number;
        model: string;
        base: string;
        dataset: string;
        digest: string;
        lr: string;
        project?: string;
      },
    ) => {
      const run = await mlflow.createRun({
        experimentId,
        startTime: T0 + o.day * DAY,
        runName: key,
        tags: [
          { key: 'llmops.project_id', value: o.project ?? projectId },
          { key: 'llmops.job_id', value: `job-${key}` },
        ],
      });
      await mlflow.logBatch({
        runId: run.info.run_id,
        params: [
          { key: 'output.artifact_name', value: o.model },
          { key: 'base_model_ref', value: o.base },
          { key: 'hyperparams.learning_rate', value: o.lr },
          { key: 'hyperparams.epochs', value: '3' },
        ],
        metrics: [0, 50, 100].map((step) => ({
          key: 'loss',
          value: 3 - step / 100,
          timestamp: T0 + step,
          step,
        })),
      });
      await mlflow.logInputs(run.info.run_id, [
        {
          dataset: { name: o.dataset, digest: o.digest, source_type: 'local', source: 's3://data/x' },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
      ]);
      runs[key] = run.info.run_id;
    };
    await make('a', {
      day: 0,
      model: 'sft-a',
      base: 'llama-8b',
      dataset: 'pairs@v1',
      digest: 'd1',
      lr: '0.001',
    });
    await make('b', {
      day: 1,
      model: 'sft-b',
      base: 'llama-8b',
      dataset: 'pairs@v2',
      digest: 'd2',
      lr: '0.002',
    });
    await make('c', {
      day: 2,
      model: 'sft-c',
      base: 'qwen-7b',
      dataset: 'chat@v1',
      digest: 'd3',
      lr: '0.001',
    });
    await make('x', {
      day: 1,
      model: 'sft-a',
      base: 'llama-8b',
      dataset: 'pairs@v1',
      digest: 'd1',
      lr: '0.1',
      project: '00000000-0000-4000-8000-000000000000',
    });
    // A metric only run c logged, with a value JSON cannot carry.
    await mlflow.logBatch({
      runId: runs.c!,
      metrics: [{ key: 'grad_norm', value: NaN, timestamp: T0, step: 50 }],
    });
  });
  afterAll(() => p?.close());

  const names = (r: any) => r.body.data.items.map((x: any) => x.runName);

  it("searches the project's runs newest first, by registered or base model, dataset and dates", async () => {
    expect(names(await client.get(`${API}/experiments/runs`))).toEqual(['c', 'b', 'a']);
    expect(names(await client.get(`${API}/experiments/runs?model=sft-a`))).toEqual(['a']);
    expect(names(await client.get(`${API}/experiments/runs?model=llama-8b`))).toEqual(['b', 'a']);
    expect(names(await client.get(`${API}/experiments/runs?dataset=pairs`))).toEqual(['b', 'a']);
    expect(names(await client.get(`${API}/experiments/runs?dataset=d3`))).toEqual(['c']);
    expect(names(await client.get(`${API}/experiments/runs?model=llama-8b&dataset=pairs@v2`))).toEqual(['b']);
    expect(names(await client.get(`${API}/experiments/runs?from=2026-06-02&to=2026-06-02`))).toEqual(['b']);
    const r = await client.get(`${API}/experiments/runs?model=sft-c`);
    expect(r.body.data.items[0]).toMatchObject({
      jobId: 'job-c',
      datasets: [{ name: 'chat@v1', digest: 'd3', context: 'training' }],
      metrics: { loss: 2, grad_norm: 'NaN' },
      runUrl: `${mlflow.baseUrl}/#/experiments/${r.body.data.experimentId}/runs/${runs.c}`,
    });
  });

  it('pages through results with the token', async () => {
    const first = await client.get(`${API}/experiments/runs?limit=2`);
    expect(names(first)).toEqual(['c', 'b']);
    const next = await client.get(
      `${API}/experiments/runs?limit=2&pageToken=${encodeURIComponent(first.body.data.nextPageToken)}`,
    );
    expect(names(next)).toEqual(['a']);
    expect(next.body.data.nextPageToken).toBeNull();
  });

  it('refuses bad search input with a clear 400', async () => {
    const cases: [string, RegExp][] = [
      ['from=yesterday', /query\.from/],
      ['from=2026-06-03&to=2026-06-01', /to '2026-06-01' must be after from '2026-06-03'/],
      ['limit=0', /limit/],
      ['pageToken=garbage', /pageToken is not a token from a previous page/],
      ['colour=red', /colour/],
    ];
    for (const [q, message] of cases) {
      const r = await client.get(`${API}/experiments/runs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.message, q).toMatch(message);
    }
  });

  it('compares runs: parameters side by side with differences flagged, metrics aligned by step', async () => {
    const r = await client.post(`${API}/experiments/compare`, { run_ids: [runs.a, runs.c, runs.a] });
    expect(r.status).toBe(200);
    const { a, c } = runs as { a: string; c: string };
    expect(r.body.data.runs.map((x: any) => x.runId)).toEqual([a, c]);
    expect(r.body.data.params).toEqual([
      { key: 'base_model_ref', values: { [a]: 'llama-8b', [c]: 'qwen-7b' }, differs: true },
      { key: 'hyperparams.epochs', values: { [a]: '3', [c]: '3' }, differs: false },
      { key: 'hyperparams.learning_rate', values: { [a]: '0.001', [c]: '0.001' }, differs: false },
      { key: 'output.artifact_name', values: { [a]: 'sft-a', [c]: 'sft-c' }, differs: true },
    ]);
    expect(r.body.data.metrics).toEqual([
      { key: 'grad_norm', steps: [{ step: 50, values: { [a]: null, [c]: 'NaN' } }] },
      {
        key: 'loss',
        steps: [
          { step: 0, values: { [a]: 3, [c]: 3 } },
          { step: 50, values: { [a]: 2.5, [c]: 2.5 } },
          { step: 100, values: { [a]: 2, [c]: 2 } },
        ],
      },
    ]);
    expect(r.body.message).toBe('2 run(s) compared; 2 parameter(s) differ');
  });

  it('refuses more than 10 runs (400), unknown runs and runs of other projects (404)', async () => {
    const many = await client.post(`${API}/experiments/compare`, {
      run_ids: Array.from({ length: 11 }, (_v, i) => `r${i}`),
    });
    expect(many.status).toBe(400);
    expect(many.body.message).toMatch(/at most 10 runs can be compared/);
    const unknown = await client.post(`${API}/experiments/compare`, { run_ids: [runs.a, 'nope', runs.x] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe(`Run(s) not found in project 'default': nope, ${runs.x}`);
    expect((await client.post(`${API}/experiments/compare`, { run_ids: [] })).status).toBe(400);
  });

  it('answers 503 naming MLflow when it is down', async () => {
    mlflow.down = true;
    try {
      const r = await client.get(`${API}/experiments/runs`);
      expect(r.status).toBe(503);
      expect(r.body.message).toMatch(/^MLflow at http:\/\/mlflow\.test is unavailable/);
      expect((await client.post(`${API}/experiments/compare`, { run_ids: [runs.a] })).status).toBe(503);
    } finally {
      mlflow.down = false;
    }
  });
});

describe(`experiments without MLflow (${testDbKind()})`, () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await createTestPlatform();
  });
  afterAll(() => p?.close());

  it('answers 503 saying MLflow is not configured', async () => {
    const r = await p.as(p.adminToken, 'default').get(`${API}/experiments/runs`);
    expect(r.status).toBe(503);
    expect(r.body.message).toBe(
      'MLflow is not configured: set MLFLOW_TRACKING_URI to the tracking server and restart the platform',
    );
  });
});
