import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMlflowEnv, type MlflowEnv } from '@llmops/pyenv';
import type { TrainJobSpec } from '@llmops/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchForLogBatch,
  createMlflowClient,
  fromMlflowFields,
  fromMlflowParams,
  MlflowError,
  startMlflowServer,
  toMlflowFields,
  toMlflowParams,
  type Metric,
  type MlflowApi,
  type MlflowServer,
} from './index.ts';

const HOME =
  process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../../.llmops-test', import.meta.url));
const SETUP_MS = 15 * 60_000;

const SPEC: TrainJobSpec = {
  job_type: 'SFT',
  model_family: 'llama',
  base_model_ref: 'tiny-llama',
  dataset_ref: { name: 'support-chats', version: 'v3', type: 'sft_pair', storage_uri: 's3://bucket/chats' },
  hyperparams: { lr: 0.0002, batch_size: 8, num_epochs: 3, max_seq_len: 2048, precision: 'bf16' },
  method: 'lora',
  resources: { gpus: 1, gpu_type: 'A100', nodes: 1 },
  output: { artifact_name: 'support-bot', save_format: 'safetensors' },
  use_gpu: true,
};

/** Reads MLflow directly (not through the adapter), so the adapter is checked against the server's own view. */
async function raw(url: string, path: string): Promise<any> {
  const res = await fetch(`${url}/api/2.0/mlflow/${path}`);
  return res.json();
}

describe('the MLflow adapter against a real server', () => {
  let env: MlflowEnv;
  let dataDir: string;
  let server: MlflowServer;
  let mlflow: MlflowApi;
  const logs: string[] = [];

  beforeAll(async () => {
    env = await ensureMlflowEnv({ home: HOME });
    dataDir = await mkdtemp(join(tmpdir(), 'llmops-mlflow-it-'));
    server = await startMlflowServer({ mlflowCli: env.mlflowCli, dataDir, onLog: (l) => logs.push(l) });
    mlflow = createMlflowClient({ baseUrl: server.url, timeoutMs: 15_000 });
  }, SETUP_MS);

  afterAll(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers health with the pinned version and builds UI links', async () => {
    const h = await mlflow.health();
    expect(h.version).toBe(env.version);
    expect(h.latencyMs).toBeGreaterThanOrEqual(0);
    expect(mlflow.runUrl('1', 'abc')).toBe(`${server.url}/#/experiments/1/runs/abc`);
    expect(mlflow.modelVersionUrl('support-bot', '2')).toBe(`${server.url}/#/models/support-bot/versions/2`);
  });

  it('ensures an experiment: creates it once, finds it again, restores it after a delete', async () => {
    const name = `proj-${randomUUID()}`;
    expect(await mlflow.getExperimentByName(name)).toBeNull();
    const created = await mlflow.ensureExperiment(name, [{ key: 'llmops.project', value: 'p1' }]);
    expect(created).toMatchObject({ name, lifecycle_stage: 'active' });
    expect(created.tags).toContainEqual({ key: 'llmops.project', value: 'p1' });
    const [again, racing] = await Promise.all([mlflow.ensureExperiment(name), mlflow.ensureExperiment(name)]);
    expect(again.experiment_id).toBe(created.experiment_id);
    expect(racing.experiment_id).toBe(created.experiment_id);

    await mlflow.deleteExperiment(created.experiment_id);
    expect((await mlflow.getExperiment(created.experiment_id))?.lifecycle_stage).toBe('deleted');
    // Creating the same name fails on the server while the deleted one exists…
    const dup = await mlflow.createExperiment(name).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(MlflowError);
    expect(dup).toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS', httpStatus: 400, retryable: false });
    expect((dup as Error).message).toMatch(/^MLflow experiments\/create: RESOURCE_ALREADY_EXISTS: /);
    // …ensureExperiment brings it back instead.
    const restored = await mlflow.ensureExperiment(name);
    expect(restored).toMatchObject({ experiment_id: created.experiment_id, lifecycle_stage: 'active' });
    const direct = await raw(server.url, `experiments/get?experiment_id=${created.experiment_id}`);
    expect(direct.experiment.lifecycle_stage).toBe('active');
    expect(await mlflow.getExperiment('987654')).toBeNull();
  });

  it('creates, finds by tag, updates and reads runs; logs batches with NaN and ±Infinity in order', async () => {
    const exp = await mlflow.ensureExperiment(`runs-${randomUUID()}`);
    const jobId = randomUUID();
    const run = await mlflow.createRun({
      experimentId: exp.experiment_id,
      runName: 'job-1',
      tags: [{ key: 'llmops.job_id', value: jobId }],
    });
    expect(run.info).toMatchObject({
      experiment_id: exp.experiment_id,
      status: 'RUNNING',
      run_name: 'job-1',
    });
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${exp.experiment_id}/${run.info.run_id}/artifacts`);
    await mlflow.createRun({
      experimentId: exp.experiment_id,
      tags: [{ key: 'llmops.job_id', value: 'other' }],
    });

    const found = await mlflow.searchRuns({
      experimentIds: [exp.experiment_id],
      filter: `tags."llmops.job_id" = '${jobId}'`,
    });
    expect(found.items.map((r) => r.info.run_id)).toEqual([run.info.run_id]);
    expect(found.nextPageToken).toBeNull();
    const page = await mlflow.searchRuns({ experimentIds: [exp.experiment_id], maxResults: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.nextPageToken).toEqual(expect.any(String));

    const t0 = Date.now();
    const values = [0.5, NaN, Infinity, -Infinity, 0.25, -0.125];
    const metrics: Metric[] = values.map((value, step) => ({
      key: 'train/loss',
      value,
      timestamp: t0 + step,
      step,
    }));
    await mlflow.logBatch({
      runId: run.info.run_id,
      metrics,
      params: [{ key: 'hyperparams.lr', value: '0.0002' }],
      tags: [{ key: 'llmops.attempt', value: '1' }],
    });
    const history = await mlflow.getMetricHistory(run.info.run_id, 'train/loss');
    expect(history).toEqual(metrics);
    // What MLflow itself stores: NaN as "NaN", infinities as ±max double.
    const direct = await raw(
      server.url,
      `metrics/get-history?run_id=${run.info.run_id}&metric_key=${encodeURIComponent('train/loss')}`,
    );
    expect(direct.metrics.map((m: any) => m.value)).toEqual([
      0.5,
      'NaN',
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      0.25,
      -0.125,
    ]);
    expect(await mlflow.getMetricHistory(run.info.run_id, 'never-logged')).toEqual([]);

    await mlflow.setTag(run.info.run_id, 'llmops.attempt', '2');
    await mlflow.updateRun({ runId: run.info.run_id, status: 'FINISHED', endTime: t0 + 10 });
    const got = await mlflow.getRun(run.info.run_id);
    expect(got?.info).toMatchObject({ status: 'FINISHED', end_time: t0 + 10 });
    expect(got?.data.params).toContainEqual({ key: 'hyperparams.lr', value: '0.0002' });
    expect(got?.data.tags).toContainEqual({ key: 'llmops.attempt', value: '2' });
    expect(got?.data.metrics).toEqual([{ key: 'train/loss', value: -0.125, timestamp: t0 + 5, step: 5 }]);
    expect(await mlflow.getRun('0'.repeat(32))).toBeNull();
  });

  it('reports a rejected batch with the operation, the server code and retryable=false; nothing is doubled', async () => {
    const exp = await mlflow.ensureExperiment(`partial-${randomUUID()}`);
    const run = await mlflow.createRun({ experimentId: exp.experiment_id });
    const runId = run.info.run_id;
    await mlflow.logBatch({ runId, params: [{ key: 'p', value: '1' }] });
    // Params are write-once: the same value again is fine, a changed one fails the batch.
    await mlflow.logBatch({ runId, params: [{ key: 'p', value: '1' }] });
    const err = await mlflow
      .logBatch({
        runId,
        params: [{ key: 'p', value: '2' }],
        metrics: [{ key: 'm', value: 1, timestamp: Date.now(), step: 0 }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowError);
    expect(err).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', httpStatus: 400, retryable: false });
    expect((err as Error).message).toMatch(
      /^MLflow runs\/log-batch: INVALID_PARAMETER_VALUE: .*Changing param values/,
    );
    const direct = await raw(server.url, `runs/get?run_id=${runId}`);
    expect(direct.run.data.params).toEqual([{ key: 'p', value: '1' }]);
    // The metric of the failed batch: whatever the server kept, a retry of the metric alone never doubles it.
    const before = (await mlflow.getMetricHistory(runId, 'm')).length;
    expect(before).toBeLessThanOrEqual(1);

    const badKey = await mlflow
      .logBatch({ runId, metrics: [{ key: 'a/../b', value: 1, timestamp: 1, step: 0 }] })
      .catch((e: unknown) => e);
    expect(badKey).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', retryable: false });
    const unknownRun = await mlflow
      .logBatch({ runId: 'f'.repeat(32), tags: [{ key: 'a', value: 'b' }] })
      .catch((e: unknown) => e);
    expect(unknownRun).toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST', httpStatus: 404, retryable: false });
  });

  it('round-trips a TrainJobSpec and an oversized value through real params and tags', async () => {
    const exp = await mlflow.ensureExperiment(`spec-${randomUUID()}`);
    const run = await mlflow.createRun({ experimentId: exp.experiment_id });
    const fields = toMlflowParams(SPEC);
    for (const batch of batchForLogBatch(fields)) await mlflow.logBatch({ runId: run.info.run_id, ...batch });
    const got = (await mlflow.getRun(run.info.run_id))!;
    expect(got.data.params).toContainEqual({ key: 'hyperparams.lr', value: '0.0002' });
    expect(fromMlflowParams(got.data.params!, got.data.tags!)).toEqual(SPEC);

    // The server truncates param values over 6000 characters; the chunked encoding survives it.
    const big = { notes: 'é😀x'.repeat(5000), list: [1, 'two', null, false, { deep: [] }] };
    const other = await mlflow.createRun({ experimentId: exp.experiment_id });
    const encoded = toMlflowFields(big, 'extra');
    for (const batch of batchForLogBatch(encoded))
      await mlflow.logBatch({ runId: other.info.run_id, ...batch });
    const back = (await mlflow.getRun(other.info.run_id))!;
    expect(fromMlflowFields(back.data.params!, back.data.tags!, 'extra')).toEqual(big);
  });

  it('logs a dataset input with its digest', async () => {
    const exp = await mlflow.ensureExperiment(`inputs-${randomUUID()}`);
    const run = await mlflow.createRun({ experimentId: exp.experiment_id });
    const digest = 'a1b2c3d4e5f60718';
    await mlflow.logInputs(run.info.run_id, [
      {
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
        dataset: {
          name: 'support-chats@v3',
          digest,
          source_type: 's3',
          source: '{"uri":"s3://bucket/chats"}',
        },
      },
    ]);
    const got = await mlflow.getRun(run.info.run_id);
    expect(got?.inputs?.dataset_inputs).toEqual([
      expect.objectContaining({
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
        dataset: expect.objectContaining({ name: 'support-chats@v3', digest, source_type: 's3' }),
      }),
    ]);
    const byDigest = await mlflow.searchRuns({
      experimentIds: [exp.experiment_id],
      filter: `datasets.digest = '${digest}'`,
    });
    expect(byDigest.items.map((r) => r.info.run_id)).toEqual([run.info.run_id]);
  });

  it('uploads artifacts through the proxy and lists them; names a run whose artifacts are not proxied', async () => {
    const exp = await mlflow.ensureExperiment(`artifacts-${randomUUID()}`);
    const run = await mlflow.createRun({ experimentId: exp.experiment_id });
    const bytes = new TextEncoder().encode('{"step": 3}');
    await mlflow.uploadArtifact(run.info, 'checkpoints/step 3/state.json', bytes);
    await mlflow.uploadArtifact(run.info, 'logs.txt', new TextEncoder().encode('hello'));
    const top = await mlflow.listArtifacts(run.info.run_id);
    expect(top.map((f) => [f.path, f.is_dir])).toEqual([
      ['checkpoints', true],
      ['logs.txt', false],
    ]);
    const inner = await mlflow.listArtifacts(run.info.run_id, 'checkpoints/step 3');
    expect(inner).toEqual([
      { path: 'checkpoints/step 3/state.json', is_dir: false, file_size: bytes.length },
    ]);
    const res = await fetch(
      `${server.url}/api/2.0/mlflow-artifacts/artifacts/${exp.experiment_id}/${run.info.run_id}/artifacts/checkpoints/step%203/state.json`,
    );
    expect(await res.text()).toBe('{"step": 3}');

    await expect(
      mlflow.uploadArtifact({ ...run.info, artifact_uri: 's3://bucket/1/abc/artifacts' }, 'x.txt', bytes),
    ).rejects.toThrow(/artifact_uri "s3:\/\/bucket\/1\/abc\/artifacts" is not served by the tracking server/);
    await expect(mlflow.uploadArtifact(run.info, '../escape.txt', bytes)).rejects.toThrow(/relative path/);
  });

  it('registers a model and versions, and sets, reads and deletes aliases', async () => {
    const name = `model-${randomUUID()}`;
    expect(await mlflow.getRegisteredModel(name)).toBeNull();
    const model = await mlflow.ensureRegisteredModel(name, [{ key: 'llmops.project', value: 'p1' }]);
    expect(model.name).toBe(name);
    expect((await mlflow.ensureRegisteredModel(name)).name).toBe(name);

    const exp = await mlflow.ensureExperiment(`registry-${randomUUID()}`);
    const run = await mlflow.createRun({ experimentId: exp.experiment_id });
    const v1 = await mlflow.createModelVersion({
      name,
      source: `${run.info.artifact_uri}/model`,
      runId: run.info.run_id,
      tags: [{ key: 'llmops.dataset_digest', value: 'a1b2' }],
    });
    const v2 = await mlflow.createModelVersion({
      name,
      source: `${run.info.artifact_uri}/model`,
      runId: run.info.run_id,
    });
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    expect((await mlflow.getModelVersion(name, '1'))?.tags).toContainEqual({
      key: 'llmops.dataset_digest',
      value: 'a1b2',
    });
    expect(await mlflow.getModelVersion(name, '99')).toBeNull();

    expect(await mlflow.getVersionByAlias(name, 'staging')).toBeNull();
    await mlflow.setAlias(name, 'staging', '1');
    expect((await mlflow.getVersionByAlias(name, 'staging'))?.version).toBe('1');
    await mlflow.setAlias(name, 'staging', '2');
    expect((await mlflow.getVersionByAlias(name, 'staging'))?.version).toBe('2');
    const direct = await raw(server.url, `registered-models/get?name=${name}`);
    expect(direct.registered_model.aliases).toEqual([{ alias: 'staging', version: '2' }]);
    await mlflow.deleteAlias(name, 'staging');
    expect(await mlflow.getVersionByAlias(name, 'staging')).toBeNull();

    const models = await mlflow.searchRegisteredModels({ filter: `name = '${name}'` });
    expect(models.items.map((m) => m.name)).toEqual([name]);
    const versions = await mlflow.searchModelVersions({ filter: `name = '${name}'` });
    expect(versions.items.map((v) => v.version).sort()).toEqual(['1', '2']);
    const reserved = await mlflow.setAlias(name, 'latest', '1').catch((e: unknown) => e);
    expect(reserved).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', retryable: false });
  });

  it(
    'keeps everything across a restart on the same port; while it is down, calls fail as UNAVAILABLE (retryable)',
    async () => {
      const exp = await mlflow.ensureExperiment(`restart-${randomUUID()}`);
      const run = await mlflow.createRun({ experimentId: exp.experiment_id });
      await mlflow.uploadArtifact(run.info, 'a.txt', new TextEncoder().encode('kept'));
      await server.stop();
      const down = await mlflow.getRun(run.info.run_id).catch((e: unknown) => e);
      expect(down).toMatchObject({ code: 'UNAVAILABLE', httpStatus: null, retryable: true });
      expect((down as Error).message).toMatch(/^MLflow runs\/get: UNAVAILABLE: .*unreachable: ECONNREFUSED/);

      server = await startMlflowServer({ mlflowCli: env.mlflowCli, dataDir, port: server.port });
      expect((await mlflow.getRun(run.info.run_id))?.info.run_id).toBe(run.info.run_id);
      expect((await mlflow.listArtifacts(run.info.run_id)).map((f) => f.path)).toEqual(['a.txt']);
    },
    SETUP_MS,
  );

  it(
    'refuses a port in use, and names the server output when it exits before it is ready',
    async () => {
      const taken = await startMlflowServer({ mlflowCli: env.mlflowCli, dataDir, port: server.port }).catch(
        (e: unknown) => e as Error,
      );
      expect(taken).toBeInstanceOf(Error);
      expect((taken as Error).message).toBe(
        `mlflow server cannot start on ${server.url}: port ${server.port} is in use by another process`,
      );
      // A command that exits at once: the error says so and carries its last output.
      const early = await startMlflowServer({ mlflowCli: process.execPath, dataDir }).catch(
        (e: unknown) => e as Error,
      );
      expect(early).toBeInstanceOf(Error);
      expect((early as Error).message).toMatch(
        /exited with code 1 before it was ready; last output:\n[^]*Cannot find module/,
      );
      // The running server is untouched.
      expect((await mlflow.health()).version).toBe(env.version);
    },
    SETUP_MS,
  );
});
