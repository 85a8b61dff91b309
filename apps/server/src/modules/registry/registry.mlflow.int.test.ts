import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMlflow, testDbKind, type TestMlflow } from '@llmops/testing';
import { mlflowFromEnv, type PromotionGate } from '@llmops/core';
import { API, createTestPlatform, type Client, type TestPlatform } from '../../testing/test-platform.ts';

/**
 * Against a real MLflow server. Setup and assertions talk to MLflow's REST API with plain fetch, never
 * through the platform's adapter, so they show what MLflow itself holds.
 */
let mlflow: TestMlflow;
const MODEL = 'llama-3-8b-sft-real';

async function rest(method: 'GET' | 'POST', path: string, body: Record<string, unknown> = {}) {
  const url = new URL(`${mlflow.url}/api/2.0/mlflow/${path}`);
  if (method === 'GET') for (const [k, v] of Object.entries(body)) url.searchParams.set(k, String(v));
  const res = await fetch(url, {
    method,
    ...(method === 'POST'
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  return { status: res.status, json: (await res.json()) as any };
}

/** The version MLflow says the alias points at, or null when MLflow does not know the alias. */
async function aliasInMlflow(alias: string): Promise<string | null> {
  const r = await rest('GET', 'registered-models/alias', { name: MODEL, alias });
  // MLflow answers an unknown alias with 404 or (3.x) 400 INVALID_PARAMETER_VALUE "... not found".
  if (r.status === 404 || (r.status === 400 && /not found/i.test(r.json.message))) return null;
  expect(r.status).toBe(200);
  return r.json.model_version.version as string;
}

const refuseProdOfV2: PromotionGate = {
  name: 'evaluation',
  check: ({ stage, version }) =>
    stage === 'prod' && version.version === '2'
      ? { allowed: false, reason: 'eval_loss 2.3 is above the 1.8 threshold' }
      : { allowed: true, reason: 'passed' },
};

describe(`registry and experiments on a real MLflow server (${testDbKind()})`, () => {
  let p: TestPlatform;
  let admin: Client;
  let projectId: string;

  beforeAll(async () => {
    mlflow = await startTestMlflow();
    p = await createTestPlatform({
      mlflow: mlflowFromEnv({ MLFLOW_ENABLED: true, MLFLOW_TRACKING_URI: mlflow.url })!,
      promotionGates: [refuseProdOfV2],
    });
    admin = p.as(p.adminToken, 'default');
    projectId = (await admin.get(`${API}/whoami`)).body.data.project.id;
    const created = await rest('POST', 'registered-models/create', {
      name: MODEL,
      tags: [{ key: 'llmops.project_id', value: projectId }],
    });
    expect(created.status).toBe(200);
    for (const job of ['job-1', 'job-2']) {
      const v = await rest('POST', 'model-versions/create', {
        name: MODEL,
        source: `s3://models/${MODEL}/${job}`,
        tags: [
          { key: 'llmops.job_id', value: job },
          { key: 'llmops.dataset_sha256', value: `sha-${job}` },
        ],
      });
      expect(v.status).toBe(200);
    }
  }, 600_000);
  afterAll(async () => {
    await p?.close();
    await mlflow?.stop();
  });

  it('lists the registered model and its versions with lineage', async () => {
    const models = await admin.get(`${API}/registry/models?search=8b-sft`);
    expect(models.status).toBe(200);
    expect(models.body.data.items.map((m: any) => m.name)).toEqual([MODEL]);
    const versions = await admin.get(`${API}/registry/models/${MODEL}/versions`);
    expect(versions.body.data.items.map((v: any) => [v.version, v.status, v.lineage.jobId])).toEqual([
      ['2', 'READY', 'job-2'],
      ['1', 'READY', 'job-1'],
    ]);
    // Versions carry no project tag of their own: they belong to the registered model's project.
    expect(versions.body.data.items[0].lineage).toMatchObject({ projectId, datasetDigest: 'sha-job-2' });
  });

  it('promote v1 to staging, promote v2, roll back: MLflow reads back the alias at each step', async () => {
    expect(await aliasInMlflow('staging')).toBeNull();
    const one = await admin.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '1',
      stage: 'staging',
    });
    expect(one.status).toBe(200);
    expect(await aliasInMlflow('staging')).toBe('1');

    const two = await admin.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '2',
      stage: 'staging',
    });
    expect(two.body.data).toMatchObject({ fromVersion: '1', toVersion: '2' });
    expect(await aliasInMlflow('staging')).toBe('2');

    const back = await admin.post(`${API}/registry/models/${MODEL}/rollback`, { stage: 'staging' });
    expect(back.status).toBe(200);
    expect(await aliasInMlflow('staging')).toBe('1');

    const byAlias = await admin.get(`${API}/registry/models/${MODEL}/aliases/staging`);
    expect(byAlias.body.data).toMatchObject({ version: '1', aliases: ['staging'] });
  });

  it('a gate refusing the promotion moves nothing in MLflow', async () => {
    const ok = await admin.post(`${API}/registry/models/${MODEL}/promote`, { version: '1', stage: 'prod' });
    expect(ok.status).toBe(200);
    const refused = await admin.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '2',
      stage: 'prod',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe(
      `Promotion of '${MODEL}' version 2 to 'prod' refused by gate 'evaluation': eval_loss 2.3 is above the 1.8 threshold`,
    );
    expect(await aliasInMlflow('prod')).toBe('1');
  });

  it('an unknown version is 404 and moves nothing; audit rows record every move', async () => {
    const unknown = await admin.post(`${API}/registry/models/${MODEL}/promote`, {
      version: '7',
      stage: 'dev',
    });
    expect(unknown.status).toBe(404);
    expect(await aliasInMlflow('dev')).toBeNull();
    const audit = await admin.get(`${API}/audit?action=registry.model.promote&limit=200`);
    const rows = audit.body.data.items as any[];
    expect(rows.filter((r) => r.result === 'success')).toHaveLength(3);
    expect(rows.filter((r) => r.statusCode === 409)).toHaveLength(1);
    const rollbacks = await admin.get(`${API}/audit?action=registry.model.rollback`);
    expect(rollbacks.body.data.items).toMatchObject([{ result: 'success', statusCode: 200 }]);
  });

  it('searches and compares runs with filters MLflow accepts', async () => {
    const exp = await rest('POST', 'experiments/create', {
      name: 'default/default',
      tags: [{ key: 'llmops.project_id', value: projectId }],
    });
    expect(exp.status).toBe(200);
    const experimentId = exp.json.experiment_id as string;
    const ids: string[] = [];
    for (const [i, lr] of ['0.001', '0.002'].entries()) {
      const run = await rest('POST', 'runs/create', {
        experiment_id: experimentId,
        run_name: `run-${i}`,
        start_time: Date.UTC(2026, 5, 1 + i),
        tags: [
          { key: 'llmops.project_id', value: projectId },
          { key: 'llmops.job_id', value: `job-${i}` },
        ],
      });
      const runId = run.json.run.info.run_id as string;
      ids.push(runId);
      await rest('POST', 'runs/log-batch', {
        run_id: runId,
        params: [
          { key: 'output.artifact_name', value: MODEL },
          { key: 'base_model_ref', value: 'llama-3-8b' },
          { key: 'hyperparams.learning_rate', value: lr },
        ],
        metrics: [0, 10, 20]
          .filter((step) => i === 0 || step !== 10)
          .map((step) => ({ key: 'loss', value: 2 - step / 20 + i, timestamp: Date.now(), step })),
      });
      const inputs = await rest('POST', 'runs/log-inputs', {
        run_id: runId,
        datasets: [
          {
            dataset: {
              name: `pairs@v${i + 1}`,
              digest: `digest${i}`,
              source_type: 'local',
              source: 's3://data/pairs',
            },
            tags: [{ key: 'mlflow.data.context', value: 'training' }],
          },
        ],
      });
      expect(inputs.status).toBe(200);
    }
    const names = async (q: string) => {
      const res = await admin.get(`${API}/experiments/runs?${q}`);
      expect(res.status, `${q}: ${JSON.stringify(res.body)}\n${mlflow.logTail().join('\n')}`).toBe(200);
      return (res.body.data.items as any[]).map((r) => r.runName);
    };
    expect(await names('')).toEqual(['run-1', 'run-0']);
    expect(await names(`model=${MODEL}`)).toEqual(['run-1', 'run-0']);
    expect(await names('model=llama-3-8b&dataset=pairs')).toEqual(['run-1', 'run-0']);
    expect(await names('dataset=digest0')).toEqual(['run-0']);
    expect(await names('dataset=pairs@v2')).toEqual(['run-1']);
    expect(await names('from=2026-06-02')).toEqual(['run-1']);
    expect(await names('to=2026-06-01')).toEqual(['run-0']);
    expect(await names('model=qwen')).toEqual([]);

    const cmp = await admin.post(`${API}/experiments/compare`, { run_ids: ids });
    expect(cmp.status).toBe(200);
    const [a, b] = ids as [string, string];
    expect(cmp.body.data.params.find((x: any) => x.key === 'hyperparams.learning_rate')).toEqual({
      key: 'hyperparams.learning_rate',
      values: { [a]: '0.001', [b]: '0.002' },
      differs: true,
    });
    expect(cmp.body.data.metrics).toEqual([
      {
        key: 'loss',
        steps: [
          { step: 0, values: { [a]: 2, [b]: 3 } },
          { step: 10, values: { [a]: 1.5, [b]: null } },
          { step: 20, values: { [a]: 1, [b]: 2 } },
        ],
      },
    ]);
    expect(cmp.body.data.runs[0].runUrl).toContain(`${mlflow.url}/#/experiments/${experimentId}/runs/${a}`);
  });

  it('answers 503 naming the MLflow server when it is down', async () => {
    await mlflow.halt();
    const r = await admin.post(`${API}/registry/models/${MODEL}/rollback`, { stage: 'staging' });
    expect(r.status).toBe(503);
    expect(r.body.message).toMatch(
      new RegExp(`^MLflow at ${mlflow.url.replace(/[.]/g, '\\.')} is unavailable`),
    );
    const runs = await admin.get(`${API}/experiments/runs`);
    expect(runs.status).toBe(503);
  });
});
