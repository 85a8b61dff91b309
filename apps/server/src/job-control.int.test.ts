import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptsUnder, type JobOrchestrator } from '@llmops/core';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartJobBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

/** Records every call, so the test sees exactly what the API asked the workflow engine to do. */
function recordingOrchestrator() {
  const calls: string[] = [];
  const o: JobOrchestrator = {
    start: async (id) => void calls.push(`start ${id}`),
    cancel: async (id, actor) => void calls.push(`cancel ${id} ${actor}`),
    pause: async (id) => void calls.push(`pause ${id}`),
    resume: async (id) => void calls.push(`resume ${id}`),
    retry: async (id, _a, from) => void calls.push(`retry ${id} ${from ?? 'latest'}`),
    setPriority: async (id, p) => void calls.push(`priority ${id} ${p}`),
    queuePosition: async () => ({ position: 3, estimatedStart: '2030-01-01T00:00:00.000Z' }),
  };
  return { o, calls };
}

describe(`job controls, logs and the live stream (${testDbKind()})`, () => {
  let p: TestPlatform;
  let admin: Client;
  let jobId: string;
  const rec = recordingOrchestrator();

  beforeAll(async () => {
    const runsDir = join(process.env.TMPDIR ?? '/tmp', `llmops-runs-${Date.now()}`);
    p = await createTestPlatform({
      orchestrator: rec.o,
      logs: {
        attempts: attemptsUnder(runsDir),
        logPath: (id, n) => join(runsDir, id, `attempt-${n}`, 'run.log'),
      },
    });
    admin = p.as(p.adminToken);
    const ids = await seedQuickstart(admin);
    jobId = (await admin.post(`${API}/training/jobs`, quickstartJobBody(ids.modelId, ids.datasetId))).body
      .data.id;
    await mkdir(join(runsDir, jobId, 'attempt-1'), { recursive: true });
    await writeFile(
      join(runsDir, jobId, 'attempt-1', 'run.log'),
      Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n',
    );
  });
  afterAll(() => p.close());

  it('starts the workflow when a job is submitted and shows the queue position', async () => {
    expect(rec.calls).toContain(`start ${jobId}`);
    const got = await admin.get(`${API}/training/jobs/${jobId}`);
    expect(got.body.data.queue).toEqual({ position: 3, estimatedStart: '2030-01-01T00:00:00.000Z' });
  });

  it('passes controls to the engine with the actor, answering 202 with the job', async () => {
    expect((await admin.post(`${API}/training/jobs/${jobId}/pause`)).status).toBe(202);
    expect((await admin.post(`${API}/training/jobs/${jobId}/resume`)).status).toBe(202);
    const prio = await admin.patch(`${API}/training/jobs/${jobId}/priority`, { priority: 90 });
    expect(prio.status).toBe(200);
    expect((await admin.patch(`${API}/training/jobs/${jobId}/priority`, { priority: 101 })).status).toBe(400);
    expect(rec.calls).toEqual(
      expect.arrayContaining([`pause ${jobId}`, `resume ${jobId}`, `priority ${jobId} 90`]),
    );
    expect(rec.calls.some((c) => c.startsWith(`cancel`))).toBe(false);
  });

  it('refuses to retry a job that has not ended, and to resume a non-compliant job', async () => {
    const retry = await admin.post(`${API}/training/jobs/${jobId}/retry`, {});
    expect(retry.status).toBe(409);
    await p.db.repos.jobs.setCompliance(jobId, {
      compliant: false,
      violations: [
        { code: 'GPU_TYPE_NOT_AVAILABLE', path: 'trainJobSpec.resources.gpu_type', message: 'gone' },
      ],
    });
    const resume = await admin.post(`${API}/training/jobs/${jobId}/resume`);
    expect(resume.status).toBe(409);
    expect(resume.body.data.code).toBe('NON_COMPLIANT');
    await p.db.repos.jobs.setCompliance(jobId, { compliant: true, violations: [] });
  });

  it('returns the tail of the latest attempt log', async () => {
    const logs = await admin.get(`${API}/training/jobs/${jobId}/logs?tail=3`);
    expect(logs.body.data).toMatchObject({
      attempt: 1,
      attempts: [1],
      lines: ['line 8', 'line 9', 'line 10'],
    });
    expect((await admin.get(`${API}/training/jobs/${jobId}/logs?attempt=7`)).status).toBe(404);
  });

  it('streams log lines and status as Server-Sent Events until the job ends', async () => {
    const pending = p.app.inject({
      method: 'GET',
      url: `${API}/training/jobs/${jobId}/logs/stream`,
      headers: { authorization: `Bearer ${p.adminToken}` },
    });
    await new Promise((r) => setTimeout(r, 700));
    await p.db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to: 'CANCELLED', actor: 'test' });
    const res = await pending;
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = res.body
      .split('\n\n')
      .filter(Boolean)
      .map((block) => block.split('\n')[0]!.replace('event: ', ''));
    expect(events[0]).toBe('attempt');
    expect(events.filter((e) => e === 'log')).toHaveLength(10);
    expect(events.at(-1)).toBe('end');
    expect(res.body).toContain('"status":"CANCELLED"');
  });

  it('cancel of an ended job is a conflict', async () => {
    const res = await admin.post(`${API}/training/jobs/${jobId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/already CANCELLED/);
  });
});
