import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { attemptsUnder, createLocalProcessExecutor, type LocalProcessExecutor } from '@llmops/core';
import type { RuntimeSpec } from '@llmops/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { temporalSuite, type Scenario } from './testing/harness.ts';

// The same workflows with the real LocalProcessExecutor and the Python runtime in its `synthetic` mode
// (no ML library): real processes, real SIGTERM → checkpoint → exit 10, real re-attach after a worker
// restart.

const RUNTIME_DIR = fileURLToPath(new URL('../../../runtimes/python', import.meta.url));

const suite = temporalSuite();
const executors: LocalProcessExecutor[] = [];

afterEach(() => {
  for (const e of executors.splice(0)) e.close();
});

function synthetic(steps: number, stepMs: number) {
  return (spec: RuntimeSpec): RuntimeSpec => ({
    ...spec,
    mode: 'synthetic',
    synthetic: { steps, step_ms: stepMs },
  });
}

function localExecutor(s: Scenario): LocalProcessExecutor {
  const executor = createLocalProcessExecutor({
    runsDir: s.runsDir,
    command: ['python3', '-m', 'llmops_runtime'],
    env: { PYTHONPATH: RUNTIME_DIR },
    stopGraceMs: 2_000,
    pollIntervalMs: 250,
  });
  executors.push(executor);
  return executor;
}

const metricSteps = async (s: Scenario, jobId: string, attempt?: number) =>
  (await s.events(jobId, 'metrics'))
    .filter((e) => attempt === undefined || e.detail.attempt === attempt)
    .flatMap((e) => (e.detail.points as { step: number }[]).map((p) => p.step));

describe('trainingJob with the local executor and the synthetic runtime', () => {
  it('runs to SUCCEEDED and registers the saved model', async () => {
    const s = await suite.scenario();
    await s.startWorker(localExecutor(s), { adjustSpec: synthetic(12, 10) });
    const job = await s.seedJob({ artifactName: 'synthetic-lm' });
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'SUCCEEDED');

    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→RUNNING', 'RUNNING→SUCCEEDED']);
    expect((await s.events(job.id, 'checkpoint')).map((e) => e.detail.step)).toEqual([5, 10]);
    expect(await metricSteps(s, job.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const model = await s.db.repos.models.getByName(s.projectId, 'synthetic-lm');
    expect(model!.storageUri).toBe(`s3://models/${s.projectId}/synthetic-lm/${job.id}`);
    expect(model!.metadata.lineage).toMatchObject({ jobId: job.id, runtimeVersion: expect.any(String) });
    const saved = `${s.artifactsDir}/models/${s.projectId}/synthetic-lm/${job.id}/synthetic-model.json`;
    expect(JSON.parse(await readFile(saved, 'utf8'))).toMatchObject({
      artifact_name: 'synthetic-lm',
      steps: 12,
    });
  });

  it('pauses with SIGTERM at a checkpoint and resumes from it as attempt 2', async () => {
    const s = await suite.scenario();
    await s.startWorker(localExecutor(s), { adjustSpec: synthetic(40, 100) });
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitFor('step 3', async () => (await metricSteps(s, job.id)).some((n) => n >= 3));
    await s.orchestrator.pause(job.id, 'user:alice');
    await s.waitForStatus(job.id, 'PAUSED');
    const paused = (await s.events(job.id, 'status_changed')).at(-1)!;
    const checkpoint = paused.detail.checkpoint as { step: number; path: string };
    expect(checkpoint.step).toBeGreaterThanOrEqual(3);

    await s.orchestrator.resume(job.id, 'user:alice');
    await s.waitForStatus(job.id, 'SUCCEEDED');
    expect((await metricSteps(s, job.id, 2))[0]).toBe(checkpoint.step + 1);
    expect(await attemptsUnder(s.runsDir)(job.id)).toEqual([1, 2]);
  });

  it('cancels the running process', async () => {
    const s = await suite.scenario();
    const executor = localExecutor(s);
    await s.startWorker(executor, { adjustSpec: synthetic(400, 100) });
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitFor('a step', async () => (await metricSteps(s, job.id)).length > 0);
    const { pid } = await executor.status(job.id);
    await s.orchestrator.cancel(job.id, 'user:bob');
    await s.waitForStatus(job.id, 'CANCELLED');
    expect((await executor.status(job.id)).running).toBe(false);
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  it('re-attaches a new worker to the process the old one started', async () => {
    const s = await suite.scenario();
    const first = localExecutor(s);
    const worker = await s.startWorker(first, { adjustSpec: synthetic(40, 75) });
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitFor('step 5', async () => (await metricSteps(s, job.id)).some((n) => n >= 5));
    const { pid } = await first.status(job.id);
    await worker.shutdown();
    first.close();

    const second = localExecutor(s);
    await s.startWorker(second, { adjustSpec: synthetic(40, 75) });
    await s.waitFor(
      'the new worker follows the same process',
      async () => (await second.status(job.id)).pid === pid,
    );
    await s.waitForStatus(job.id, 'SUCCEEDED', 60_000);
    expect(await attemptsUnder(s.runsDir)(job.id)).toEqual([1]);
    expect(await metricSteps(s, job.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});
