import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { createInMemoryMlflow, type InMemoryMlflow } from '@llmops/core';
import { API, createTestPlatform, type TestPlatform } from '../../server/src/testing/test-platform.ts';
import { runCli } from './run.ts';

let p: TestPlatform;
let mlflow: InMemoryMlflow;
let url: string;
let dir: string;
const runIds: string[] = [];

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      LLMOPS_HOME: join(dir, 'home'),
      LLMOPS_URL: url,
      LLMOPS_TOKEN: p.adminToken,
    },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  mlflow = createInMemoryMlflow();
  p = await createTestPlatform({ mlflow });
  url = await p.app.listen({ port: 0, host: '127.0.0.1' });
  dir = await mkdtemp(join(tmpdir(), 'llmops-cli-registry-'));
  const who = await p.as(p.adminToken, 'default').get(`${API}/whoami`);
  const projectId = who.body.data.project.id as string;
  const scope = { key: 'llmops.project_id', value: projectId };
  await mlflow.ensureRegisteredModel('llama-sft', [scope]);
  for (const job of ['job-1', 'job-2'])
    await mlflow.createModelVersion({
      name: 'llama-sft',
      source: 's3://models/llama-sft',
      tags: [scope, { key: 'llmops.job_id', value: job }],
    });
  const experimentId = await mlflow.createExperiment('default/default');
  for (const lr of ['0.001', '0.002']) {
    const run = await mlflow.createRun({ experimentId, tags: [scope] });
    await mlflow.logBatch({
      runId: run.info.run_id,
      params: [
        { key: 'output.artifact_name', value: 'llama-sft' },
        { key: 'learning_rate', value: lr },
      ],
      metrics: [0, 10].map((step) => ({ key: 'loss', value: 2 - step / 10, timestamp: 1, step })),
    });
    runIds.push(run.info.run_id);
  }
});
afterAll(async () => {
  await p?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('llmops registry and experiments', () => {
  it('lists models and versions, promotes, shows the alias and rolls back', async () => {
    const models = await cli(['registry', 'models']);
    expect(models).toMatchObject({ code: 0, stderr: '' });
    expect(models.stdout).toMatch(/^NAME +LATEST +STAGES +UPDATED\nllama-sft +2 +- /);

    expect((await cli(['registry', 'promote', 'llama-sft', '1', '--to', 'staging'])).code).toBe(0);
    const promoted = await cli(['registry', 'promote', 'llama-sft', '2', '--to', 'staging']);
    expect(promoted).toMatchObject({ code: 0, stderr: '' });
    expect(promoted.stdout).toMatch(/^'staging' of 'llama-sft' moved from 1 to version 2\n/);
    expect(promoted.stdout).toMatch(/^from: +1$/m);

    const alias = await cli(['registry', 'alias', 'llama-sft', 'staging', '-o', 'json']);
    expect(JSON.parse(alias.stdout)).toMatchObject({ version: '2', lineage: { jobId: 'job-2' } });

    const versions = await cli(['registry', 'versions', 'llama-sft']);
    expect(versions.stdout).toMatch(/^2 +READY +staging +job-2 /m);

    const back = await cli(['registry', 'rollback', 'llama-sft', '--stage', 'staging', '-o', 'yaml']);
    expect(YAML.parse(back.stdout)).toMatchObject({ kind: 'rollback', fromVersion: '2', toVersion: '1' });
    expect((await mlflow.getVersionByAlias('llama-sft', 'staging'))?.version).toBe('1');

    const history = await cli(['registry', 'history', 'llama-sft']);
    expect(history.stdout.split('\n').filter((l) => / staging /.test(l))).toHaveLength(3);
  });

  it('explains a refused rollback and a bad stage without moving anything', async () => {
    const none = await cli(['registry', 'rollback', 'llama-sft', '--stage', 'prod']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toBe(
      "error: Cannot roll back 'llama-sft': 'prod' has no promotion to roll back: there is no previous version\n",
    );
    const bad = await cli(['registry', 'promote', 'llama-sft', '1', '--to', 'production']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/option '--to <stage>' argument 'production' is invalid/);
    expect(await mlflow.getVersionByAlias('llama-sft', 'prod')).toBeNull();
  });

  it('searches runs and compares them', async () => {
    const found = await cli(['experiments', 'search', '--model', 'llama-sft', '-o', 'json']);
    expect(found).toMatchObject({ code: 0, stderr: '' });
    expect(
      JSON.parse(found.stdout)
        .items.map((r: any) => r.runId)
        .sort(),
    ).toEqual([...runIds].sort());

    const cmp = await cli(['experiments', 'compare', ...runIds]);
    expect(cmp).toMatchObject({ code: 0, stderr: '' });
    expect(cmp.stdout).toMatch(/^yes +learning_rate +0\.001 +0\.002$/m);
    expect(cmp.stdout).toMatch(/^no +output\.artifact_name +llama-sft +llama-sft$/m);
    expect(cmp.stdout).toMatch(/Metric loss:\nSTEP .*\n0 +2 +2\n10 +1 +1\n/);

    const tooMany = await cli(['experiments', 'compare', ...Array.from({ length: 11 }, (_v, i) => `r${i}`)]);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toMatch(/at most 10 runs can be compared/);
  });
});
