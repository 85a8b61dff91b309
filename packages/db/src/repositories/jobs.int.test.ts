import { randomUUID } from 'node:crypto';
import { createTestDb, seedModel, seedProject, testDbKind } from '@llmops/testing';
import type { SeededProject, TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.ts';
import type { CreateEndpointInput } from './endpoints.ts';
import type { CreateJobInput } from './jobs.ts';

let db: TestDb;
let home: SeededProject;
let other: SeededProject;
beforeAll(async () => {
  db = await createTestDb();
  home = await seedProject(db);
  other = await seedProject(db);
});
afterAll(async () => {
  await db.cleanup();
});

const jobInput = (projectId: string, overrides: Partial<CreateJobInput> = {}): CreateJobInput => ({
  projectId,
  submissionKind: 'finetune',
  jobType: 'SFT',
  spec: { jobType: 'finetune', trainJobSpec: { model_family: 'llama', output: { artifact_name: 'out-1' } } },
  specHash: 'h1',
  createdBy: 'user-1',
  ...overrides,
});

describe(`training jobs (${testDbKind()})`, () => {
  it('creates a job with defaults and scopes reads to its project', async () => {
    const model = await seedModel(db, home.project.id);
    const id = randomUUID();
    const job = await db.repos.jobs.create(
      jobInput(home.project.id, {
        id,
        modelId: model.id,
        gpuMemoryEstimateGib: 17.5,
        gpuHoursEstimate: 2.25,
      }),
    );
    expect(job).toMatchObject({
      id,
      status: 'QUEUED',
      priority: 50,
      modelId: model.id,
      gpuMemoryEstimateGib: 17.5,
      gpuHoursEstimate: 2.25,
      compliance: { compliant: true, violations: [] },
      complianceCheckedAt: null,
      image: null,
    });
    expect(job.spec).toEqual(jobInput('x').spec);
    expect(await db.repos.jobs.getById(home.project.id, id)).toEqual(job);
    expect(await db.repos.jobs.getById(other.project.id, id)).toBeNull();
  });

  it('lists newest first with status, job type and kind filters and pagination', async () => {
    const { project } = await seedProject(db);
    const a = await db.repos.jobs.create(jobInput(project.id, { jobType: 'SFT' }));
    const b = await db.repos.jobs.create(jobInput(project.id, { jobType: 'DPO', status: 'RUNNING' }));
    const c = await db.repos.jobs.create(
      jobInput(project.id, { submissionKind: 'pretrain', jobType: 'PRETRAIN' }),
    );
    const page = (filter: object) => db.repos.jobs.list(project.id, { limit: 10, offset: 0, ...filter });
    expect((await page({})).items.map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect((await page({ status: 'QUEUED' })).items.map((j) => j.id)).toEqual([c.id, a.id]);
    expect((await page({ status: ['RUNNING', 'PAUSED'] })).items.map((j) => j.id)).toEqual([b.id]);
    expect((await page({ jobType: 'DPO' })).total).toBe(1);
    expect((await page({ submissionKind: 'pretrain' })).items.map((j) => j.id)).toEqual([c.id]);
    expect(await page({ limit: 1, offset: 1 })).toMatchObject({ total: 3, items: [{ id: b.id }] });
  });

  it('lists all jobs for re-validation and records compliance', async () => {
    const { project } = await seedProject(db);
    const job = await db.repos.jobs.create(jobInput(project.id));
    expect((await db.repos.jobs.listAll({ projectId: project.id })).map((j) => j.id)).toEqual([job.id]);
    expect((await db.repos.jobs.listAll({ jobId: job.id })).map((j) => j.id)).toEqual([job.id]);
    expect((await db.repos.jobs.listAll()).length).toBeGreaterThanOrEqual(1);
    const violation = {
      code: 'GPU_TYPE_NOT_AVAILABLE' as const,
      path: 'trainJobSpec.resources.gpu_type',
      message: 'gpu_type a100 is not configured',
    };
    const updated = await db.repos.jobs.setCompliance(job.id, { compliant: false, violations: [violation] });
    expect(updated?.compliance).toEqual({ compliant: false, violations: [violation] });
    expect(updated?.complianceCheckedAt).not.toBeNull();
    expect(await db.repos.jobs.setCompliance(randomUUID(), { compliant: true, violations: [] })).toBeNull();
  });

  it('appends events in a caller transaction and lists them in order', async () => {
    const { project } = await seedProject(db);
    const job = await db.sql.transaction(async (tx) => {
      const created = await db.repos.jobs.create(jobInput(project.id), tx);
      await db.repos.jobs.appendEvent(
        { jobId: created.id, type: 'submitted', toStatus: 'QUEUED', actor: 'u' },
        tx,
      );
      return created;
    });
    await db.repos.jobs.appendEvent({ jobId: job.id, type: 'note', actor: 'system', detail: { step: 3 } });
    const events = await db.repos.jobs.listEvents(job.id);
    expect(events.map((e) => [e.type, e.fromStatus, e.toStatus, e.detail])).toEqual([
      ['submitted', null, 'QUEUED', {}],
      ['note', null, null, { step: 3 }],
    ]);
    expect(events[0]!.id).toBeLessThan(events[1]!.id);
  });

  it('appends many events of several jobs in one statement, in the order given, or none', async () => {
    const { project } = await seedProject(db);
    const a = await db.repos.jobs.create(jobInput(project.id));
    const b = await db.repos.jobs.create(jobInput(project.id));
    const batch = Array.from({ length: 30 }, (_, i) => ({
      jobId: i % 3 === 0 ? b.id : a.id,
      type: i % 2 ? 'metrics' : 'progress',
      actor: 'system:worker',
      detail: {
        seq: i,
        points: i % 2 ? [{ step: i, values: { loss: 1 / (i + 1) }, ts: 1000 + i }] : undefined,
      },
    }));
    const written = await db.repos.jobs.appendEvents(batch);
    expect(written.map((e) => e.detail.seq)).toEqual(batch.map((e) => e.detail.seq));
    expect(written.map((e) => e.jobId)).toEqual(batch.map((e) => e.jobId));
    const ofA = await db.repos.jobs.listEvents(a.id);
    expect(ofA.map((e) => e.detail.seq)).toEqual(
      batch.filter((e) => e.jobId === a.id).map((e) => e.detail.seq),
    );
    expect(ofA[0]).toMatchObject({
      type: 'metrics',
      fromStatus: null,
      toStatus: null,
      actor: 'system:worker',
    });
    // The tracking outbox sees each metrics event as it would one appended alone.
    const outbox = await db.sql.query<{ kind: string }>(
      'SELECT kind FROM tracking_outbox WHERE job_id = $1 ORDER BY id',
      [a.id],
    );
    expect(outbox.map((r) => r.kind)).toEqual(
      batch.filter((e) => e.jobId === a.id && e.type === 'metrics').map(() => 'metrics'),
    );
    expect(await db.repos.jobs.appendEvents([])).toEqual([]);
    // One unknown job: the whole batch is refused and nothing is stored.
    await expect(
      db.repos.jobs.appendEvents([
        { jobId: b.id, type: 'progress', actor: 'x', detail: { seq: 99 } },
        { jobId: randomUUID(), type: 'progress', actor: 'x' },
      ]),
    ).rejects.toThrow();
    expect((await db.repos.jobs.listEvents(b.id)).some((e) => e.detail.seq === 99)).toBe(false);
  });

  it('transitions status only from the expected states and records the event', async () => {
    const { project } = await seedProject(db);
    const job = await db.repos.jobs.create(jobInput(project.id));
    const admitted = await db.repos.jobs.transition({
      id: job.id,
      from: ['QUEUED'],
      to: 'ADMITTED',
      actor: 'worker',
    });
    expect(admitted?.status).toBe('ADMITTED');
    expect(
      await db.repos.jobs.transition({ id: job.id, from: ['QUEUED'], to: 'CANCELLED', actor: 'u' }),
    ).toBeNull();
    const events = await db.repos.jobs.listEvents(job.id);
    expect(events.map((e) => [e.type, e.fromStatus, e.toStatus, e.actor])).toEqual([
      ['status_changed', 'QUEUED', 'ADMITTED', 'worker'],
    ]);
  });

  it('finds the job producing an artifact, preferring a succeeded one', async () => {
    const { project } = await seedProject(db);
    const spec = { trainJobSpec: { model_family: 'qwen', output: { artifact_name: 'my-model' } } };
    const done = await db.repos.jobs.create(jobInput(project.id, { spec, status: 'SUCCEEDED' }));
    await db.repos.jobs.create(jobInput(project.id, { spec, status: 'FAILED' }));
    const found = await db.repos.jobs.findByArtifact(project.id, 'my-model');
    expect(found).toMatchObject({ id: done.id, modelFamily: 'qwen' });
    expect(await db.repos.jobs.findByArtifact(project.id, 'other')).toBeNull();
    expect(await db.repos.jobs.findByArtifact(other.project.id, 'my-model')).toBeNull();
  });

  it('rejects an unknown status by the database check', async () => {
    const bad = db.repos.jobs.create(jobInput(home.project.id, { status: 'DONE' as 'QUEUED' }));
    await expect(bad).rejects.toMatchObject({ code: '23514' });
  });
});

describe(`serving endpoints (${testDbKind()})`, () => {
  const endpointInput = (projectId: string, route: string): CreateEndpointInput => ({
    projectId,
    route,
    environment: 'dev',
    modelRef: 'llama-3-8b:1',
    spec: { runtime: 'vllm', replicas: 1 },
    request: { route, deploymentSpec: { runtime: 'vllm' } },
    image: 'llmops/serve-vllm:gpu',
    imageVariant: 'gpu',
    imageReason: 'GPU detected',
    createdBy: 'user-1',
  });

  it('creates, reads within the project and lists newest first', async () => {
    const { project } = await seedProject(db);
    const first = await db.repos.endpoints.create(endpointInput(project.id, '/chat'));
    const second = await db.repos.endpoints.create({
      ...endpointInput(project.id, '/embed'),
      name: 'embedder',
    });
    expect(first).toMatchObject({
      status: 'PENDING',
      name: null,
      compliance: { compliant: true, violations: [] },
    });
    expect(await db.repos.endpoints.getById(project.id, first.id)).toEqual(first);
    expect(await db.repos.endpoints.getById(other.project.id, first.id)).toBeNull();
    const listed = await db.repos.endpoints.list(project.id, { limit: 1, offset: 0 });
    expect(listed).toMatchObject({ total: 2, items: [{ id: second.id, name: 'embedder' }] });
  });

  it('refuses a route already used in the project with ConflictError', async () => {
    const { project } = await seedProject(db);
    await db.repos.endpoints.create(endpointInput(project.id, '/v1/chat'));
    const again = db.repos.endpoints.create(endpointInput(project.id, '/v1/chat'));
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toMatchObject({ constraint: 'serving_endpoints_project_route_key' });
    await expect(
      db.repos.endpoints.create(endpointInput(other.project.id, '/v1/chat')),
    ).resolves.toBeTruthy();
  });

  it('lists all for re-validation, records compliance and status', async () => {
    const { project } = await seedProject(db);
    const endpoint = await db.repos.endpoints.create(endpointInput(project.id, '/r'));
    expect((await db.repos.endpoints.listAll({ projectId: project.id })).map((e) => e.id)).toEqual([
      endpoint.id,
    ]);
    expect((await db.repos.endpoints.listAll({ endpointId: endpoint.id })).length).toBe(1);
    expect(await db.repos.endpoints.listAll({ endpointId: 'bad' })).toEqual([]);
    const violation = { code: 'MODEL_NOT_FOUND' as const, path: 'modelId', message: 'model is gone' };
    const checked = await db.repos.endpoints.setCompliance(endpoint.id, {
      compliant: false,
      violations: [violation],
    });
    expect(checked).toMatchObject({ compliance: { compliant: false, violations: [violation] } });
    expect(checked?.complianceCheckedAt).not.toBeNull();
    expect((await db.repos.endpoints.setStatus(endpoint.id, 'READY'))?.status).toBe('READY');
  });
});
