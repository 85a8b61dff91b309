import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeAttemptScript } from './testing/fake-executor.ts';
import { checkAndRecordHistory, temporalSuite } from './testing/harness.ts';

// The trainingJob workflow from submission to its end state, through pause, resume, cancel and retries,
// on a real Temporal dev server, with a simulated runtime (FakeExecutor) so that every scenario is fast
// and deterministic; local-runtime.int.test.ts runs the same workflows on real runtime processes.

const FAST: FakeAttemptScript = { steps: 12, stepMs: 20, checkpointEvery: 5 };
const SLOW: FakeAttemptScript = { steps: 400, stepMs: 50, checkpointEvery: 5 };

const suite = temporalSuite();

describe('trainingJob workflow', () => {
  it('runs a job QUEUED → ADMITTED → RUNNING → SUCCEEDED and registers the model with its lineage', async () => {
    const { s, table } = await suite.fake(() => FAST);
    const job = await s.seedJob({ artifactName: 'tiny-sft' });
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'SUCCEEDED');

    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→RUNNING', 'RUNNING→SUCCEEDED']);
    const checkpoints = await s.events(job.id, 'checkpoint');
    expect(checkpoints.map((e) => e.detail.step)).toEqual([5, 10]);
    const progress = await s.events(job.id, 'progress');
    expect(progress.at(-1)?.detail).toMatchObject({ attempt: 1, step: 12, totalSteps: 12 });
    const points = (await s.events(job.id, 'metrics')).flatMap((e) => e.detail.points as { step: number }[]);
    expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    const [started] = table.startsOf(job.id);
    expect(table.startsOf(job.id)).toHaveLength(1);
    expect(started!.spec).toMatchObject({
      job_id: job.id,
      attempt: 1,
      mode: 'sft',
      job_type: 'SFT',
      method: 'lora',
      checkpoint: { dir: `${s.runsDir}/${job.id}/checkpoints`, resume_from: null, every_n_steps: 5 },
      output: {
        dir: `${s.artifactsDir}/models/${s.projectId}/tiny-sft/${job.id}`,
        artifact_name: 'tiny-sft',
      },
    });

    const model = await s.db.repos.models.getByName(s.projectId, 'tiny-sft');
    const base = await s.db.repos.models.getById(s.projectId, job.modelId!);
    const dataset = await s.db.repos.datasets.getById(s.projectId, job.datasetId!);
    expect(model).toMatchObject({
      version: '1',
      modelFamily: 'llama',
      storageUri: `s3://models/${s.projectId}/tiny-sft/${job.id}`,
      maxPositionEmbeddings: base!.maxPositionEmbeddings,
    });
    expect(model!.metadata.lineage).toEqual({
      datasetSha256: dataset!.sha256,
      specHash: job.specHash,
      runtimeVersion: 'fake-runtime 1.0',
      parentModel: { id: base!.id, name: base!.name, version: base!.version },
      jobId: job.id,
    });
    const [succeeded] = (await s.events(job.id, 'status_changed')).slice(-1);
    expect(succeeded!.detail).toMatchObject({ attempt: 1, model: { id: model!.id, version: '1' } });
    expect(succeeded!.actor).toBe('system:worker');
    await checkAndRecordHistory(suite.harness, s, job.id, 'training-job-succeeded');
  });

  it('pre-trains from scratch with the default tiny architecture and registers the next version', async () => {
    const { s, table } = await suite.fake(() => FAST);
    const first = await s.seedJob({ artifactName: 'tiny-lm' });
    const second = await s.seedJob({ artifactName: 'tiny-lm', jobType: 'PRETRAIN' });
    await s.orchestrator.start(first.id);
    await s.waitForStatus(first.id, 'SUCCEEDED');
    await s.orchestrator.start(second.id);
    await s.waitForStatus(second.id, 'SUCCEEDED');

    const [run] = table.startsOf(second.id);
    expect(run!.spec).toMatchObject({
      mode: 'pretrain',
      method: 'full',
      model: {
        base_model_path: null,
        tokenizer_path: null,
        init_config: { max_position_embeddings: 128, hidden_size: 64, num_hidden_layers: 2 },
      },
    });
    const model = await s.db.repos.models.getByName(s.projectId, 'tiny-lm');
    expect(model).toMatchObject({ version: '2', maxPositionEmbeddings: 128, parameterCount: 196_928 });
    expect(model!.metadata.lineage).toMatchObject({ jobId: second.id, parentModel: null });
  });

  it('fails a job whose dataset file is gone, with a message that says so, without running it', async () => {
    const { s, table } = await suite.fake(() => FAST);
    const job = await s.seedJob();
    const dataset = await s.db.repos.datasets.getById(s.projectId, job.datasetId!);
    await rm(join(s.artifactsDir, dataset!.storageUri.slice('s3://'.length)));
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'FAILED');
    expect(table.startsOf(job.id)).toEqual([]);
    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→FAILED']);
    const failed = (await s.events(job.id, 'status_changed')).at(-1)!;
    expect(failed.detail.message).toMatch(/^The file of dataset 'corpus-\w+' version 'v1' is missing at /);
    await s.waitFor('capacity released', async () => (await s.queue()).running.length === 0);
  });

  it('treats a duplicate start as a no-op, also after the job has ended', async () => {
    const { s, table } = await suite.fake(() => FAST);
    const job = await s.seedJob();
    await Promise.all([
      s.orchestrator.start(job.id),
      s.orchestrator.start(job.id),
      s.orchestrator.start(job.id),
    ]);
    const { runId } = await s.client.workflow.getHandle(job.id).describe();
    await s.waitForStatus(job.id, 'SUCCEEDED');
    await s.orchestrator.start(job.id);

    expect((await s.client.workflow.getHandle(job.id).describe()).runId).toBe(runId);
    expect(table.startsOf(job.id)).toHaveLength(1);
    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→RUNNING', 'RUNNING→SUCCEEDED']);
  });

  it('pauses at a checkpoint, frees the capacity, and resumes as a new attempt from that checkpoint', async () => {
    let pausedJob = '';
    const { s, table } = await suite.fake(
      (jobId, attempt) =>
        jobId === pausedJob && attempt === 1
          ? { steps: 60, stepMs: 100, checkpointEvery: 5 }
          : { ...FAST, steps: 60, stepMs: 5 },
      { maxConcurrentRuns: 1 },
    );
    const job = await s.seedJob();
    const other = await s.seedJob();
    pausedJob = job.id;
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'RUNNING');
    await s.orchestrator.start(other.id);
    await s.waitFor('step 7', async () =>
      (await s.events(job.id, 'progress')).some((e) => Number(e.detail.step) >= 7),
    );
    expect(await s.statusOf(other.id)).toBe('QUEUED');

    await s.orchestrator.pause(job.id, 'user:alice');
    await s.waitForStatus(job.id, 'PAUSED');
    // The paused job's capacity goes to the queued one.
    await s.waitForStatus(other.id, 'SUCCEEDED');
    expect(await s.statusOf(job.id)).toBe('PAUSED');
    const first = table.processes.get(`${job.id}#1`)!;
    expect(first.outcome?.kind).toBe('checkpointed');
    const paused = (await s.events(job.id, 'status_changed')).find((e) => e.toStatus === 'PAUSED')!;
    expect(paused.actor).toBe('user:alice');
    const checkpoint = paused.detail.checkpoint as { step: number; path: string };
    expect(checkpoint.step).toBeGreaterThanOrEqual(7);
    expect((await s.events(job.id, 'checkpoint')).at(-1)?.detail).toMatchObject(checkpoint);
    expect((await s.queue()).running).toEqual([]);
    await expect(s.orchestrator.pause(job.id, 'user:alice')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Job ${job.id} is PAUSED; only RUNNING or ADMITTED jobs can be paused`,
    });

    await s.orchestrator.resume(job.id, 'user:bob');
    await s.waitForStatus(job.id, 'SUCCEEDED');
    expect(await s.transitions(job.id)).toEqual([
      'QUEUED→ADMITTED',
      'ADMITTED→RUNNING',
      'RUNNING→PAUSED',
      'PAUSED→QUEUED',
      'QUEUED→ADMITTED',
      'ADMITTED→RUNNING',
      'RUNNING→SUCCEEDED',
    ]);
    const starts = table.startsOf(job.id);
    expect(starts.map((a) => [a.attempt, a.spec.checkpoint.resume_from])).toEqual([
      [1, null],
      [2, 'latest'],
    ]);
    const resumed = table.processes.get(`${job.id}#2`)!.events[0]!;
    expect(resumed).toMatchObject({ type: 'started', resumed_from_step: checkpoint.step });
    await checkAndRecordHistory(suite.harness, s, job.id, 'training-job-paused-resumed');
  });

  it('cancels a running job and leaves no process behind', async () => {
    const { s, table } = await suite.fake(() => SLOW);
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitFor('progress', async () => (await s.events(job.id, 'progress')).length > 0);
    // The step of the running attempt comes from its heartbeat.
    await s.waitFor(
      'a heartbeat with the step',
      async () => ((await s.orchestrator.status(job.id))?.step ?? 0) > 0,
    );
    expect(await s.orchestrator.status(job.id)).toMatchObject({
      state: 'RUNNING',
      attempt: 1,
      pending: null,
    });
    await s.orchestrator.cancel(job.id, 'user:bob');
    await s.waitForStatus(job.id, 'CANCELLED');

    expect(table.liveOf(job.id)).toBeUndefined();
    expect(table.processes.get(`${job.id}#1`)!.outcome).toEqual({ kind: 'cancelled' });
    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→RUNNING', 'RUNNING→CANCELLED']);
    expect((await s.events(job.id, 'status_changed')).at(-1)!.actor).toBe('user:bob');
    await s.waitFor('capacity released', async () => (await s.queue()).running.length === 0);
  });

  it('cancels a queued job without running it, and a paused one', async () => {
    const { s, table } = await suite.fake(() => SLOW, { maxConcurrentRuns: 1 });
    const running = await s.seedJob();
    const queued = await s.seedJob();
    await s.orchestrator.start(running.id);
    await s.waitForStatus(running.id, 'RUNNING');
    await s.orchestrator.start(queued.id);
    await s.waitFor('queued', async () => (await s.queue()).queued.some((q) => q.jobId === queued.id));

    await s.orchestrator.cancel(queued.id, 'user:carol');
    await s.waitForStatus(queued.id, 'CANCELLED');
    expect(await s.transitions(queued.id)).toEqual(['QUEUED→CANCELLED']);
    expect(table.startsOf(queued.id)).toEqual([]);
    expect((await s.queue()).queued).toEqual([]);

    await s.orchestrator.pause(running.id, 'user:carol');
    await s.waitForStatus(running.id, 'PAUSED');
    await s.orchestrator.cancel(running.id, 'user:carol');
    await s.waitForStatus(running.id, 'CANCELLED');
    expect((await s.transitions(running.id)).slice(-2)).toEqual(['RUNNING→PAUSED', 'PAUSED→CANCELLED']);
    expect(table.liveOf(running.id)).toBeUndefined();
  });

  it('retries a retryable failure automatically as a new attempt from the last checkpoint', async () => {
    const { s, table } = await suite.fake((_, attempt) => ({
      steps: 20,
      stepMs: 10,
      checkpointEvery: 5,
      failAt: attempt === 1 ? { step: 7, retryable: true, message: 'CUDA out of memory' } : undefined,
    }));
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'SUCCEEDED');

    expect(await s.transitions(job.id)).toEqual(['QUEUED→ADMITTED', 'ADMITTED→RUNNING', 'RUNNING→SUCCEEDED']);
    const failed = await s.events(job.id, 'attempt_failed');
    expect(failed.map((e) => e.detail)).toEqual([
      expect.objectContaining({ attempt: 1, retryable: true, message: 'CUDA out of memory', exitCode: 20 }),
    ]);
    expect((await s.events(job.id, 'attempt_started')).map((e) => e.detail)).toEqual([
      { attempt: 1, resumeFrom: null, op: expect.any(String) },
      { attempt: 2, resumeFrom: 'latest', op: expect.any(String) },
    ]);
    expect(table.processes.get(`${job.id}#2`)!.events[0]).toMatchObject({ resumed_from_step: 5 });
    const attempt2 = (await s.events(job.id, 'metrics')).filter((e) => e.detail.attempt === 2);
    expect(attempt2.flatMap((e) => e.detail.points as { step: number }[])[0]?.step).toBe(6);
  });

  it('resumes a preempted attempt (stopped from outside) at once from its checkpoint', async () => {
    const { s, table } = await suite.fake((_, attempt) =>
      attempt === 1 ? { ...SLOW, steps: 60 } : { ...FAST, steps: 60 },
    );
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitFor('step 3', async () =>
      (await s.events(job.id, 'progress')).some((e) => Number(e.detail.step) >= 3),
    );
    table.liveOf(job.id)!.stop(); // SIGTERM from outside (spot reclaim), not a pause
    await s.waitForStatus(job.id, 'SUCCEEDED');
    expect(await s.transitions(job.id)).toEqual([
      'QUEUED→ADMITTED',
      'ADMITTED→RUNNING',
      'RUNNING→PREEMPTED',
      'PREEMPTED→RUNNING',
      'RUNNING→SUCCEEDED',
    ]);
    const preempted = (await s.events(job.id, 'status_changed')).find((e) => e.toStatus === 'PREEMPTED')!;
    const checkpoint = preempted.detail.checkpoint as { step: number };
    expect(table.processes.get(`${job.id}#2`)!.events[0]).toMatchObject({
      resumed_from_step: checkpoint.step,
    });
  });

  it('fails the job after the bounded number of retryable failures', async () => {
    const { s, table } = await suite.fake(() => ({
      steps: 20,
      stepMs: 5,
      checkpointEvery: 5,
      failAt: { step: 2, retryable: true, message: 'connection reset by peer' },
    }));
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'FAILED');
    expect(table.startsOf(job.id)).toHaveLength(3);
    const last = (await s.events(job.id, 'status_changed')).at(-1)!;
    expect(last.detail.message).toBe('failed after 3 attempts: connection reset by peer');
  });

  it('fails a permanent failure with the runtime message, and retries it on request from a checkpoint', async () => {
    const { s, table } = await suite.fake((_, attempt) => ({
      steps: 20,
      stepMs: 5,
      checkpointEvery: 5,
      failAt:
        attempt === 1 ? { step: 12, retryable: false, message: "row 3: missing field 'output'" } : undefined,
    }));
    const job = await s.seedJob();
    await s.orchestrator.start(job.id);
    await s.waitForStatus(job.id, 'FAILED');
    expect(table.startsOf(job.id)).toHaveLength(1);
    const failedEvent = (await s.events(job.id, 'status_changed')).at(-1)!;
    expect(failedEvent).toMatchObject({ fromStatus: 'RUNNING', toStatus: 'FAILED' });
    expect(failedEvent.detail.message).toBe("row 3: missing field 'output'");

    const orch = s.orchestrator;
    await expect(orch.pause(job.id, 'user:x')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Job ${job.id} is FAILED; only RUNNING or ADMITTED jobs can be paused`,
    });
    await expect(orch.resume(job.id, 'user:x')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(orch.retry(job.id, 'user:x', '/nowhere/step-1')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(orch.cancel('00000000-0000-4000-8000-000000000000', 'user:x')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });

    const [first] = await s.events(job.id, 'checkpoint');
    await orch.retry(job.id, 'user:dave', String(first!.detail.path));
    await s.waitForStatus(job.id, 'SUCCEEDED');
    expect((await s.transitions(job.id)).slice(3)).toEqual([
      'FAILED→QUEUED',
      'QUEUED→ADMITTED',
      'ADMITTED→RUNNING',
      'RUNNING→SUCCEEDED',
    ]);
    expect(table.startsOf(job.id)[1]!.spec.checkpoint.resume_from).toBe(first!.detail.path);
    expect(table.processes.get(`${job.id}#2`)!.events[0]).toMatchObject({ resumed_from_step: 5 });
    await expect(orch.retry(job.id, 'user:dave')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Job ${job.id} is SUCCEEDED; only FAILED or CANCELLED jobs can be retried`,
    });
    await expect(orch.setPriority(job.id, 101, 'user:dave')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
