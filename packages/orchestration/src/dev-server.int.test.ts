import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDb, seedProject } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTemporal } from './connect.ts';
import { resolveTemporalCli, startTemporalDevServer } from './dev-server.ts';
import { createTemporalJobOrchestrator } from './temporal-orchestrator.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let cli: string;
let dir: string;

beforeAll(async () => {
  // The Temporal CLI of the test environment the runtime's tests also use (LLMOPS_TEMPORAL_CLI wins).
  const home =
    process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../.llmops-test', import.meta.url));
  cli = await resolveTemporalCli({ home, dev: true });
  dir = await mkdtemp(join(tmpdir(), 'llmops-temporal-'));
}, 600_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startTemporalDevServer', () => {
  it('keeps workflows in its SQLite file across a restart and leaves no process after stop()', async () => {
    const dbFile = join(dir, 'temporal.db');
    const workflowId = `probe-${randomUUID()}`;
    const first = await startTemporalDevServer({ cli, dbFile, headless: true });
    expect(first.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(alive(first.pid)).toBe(true);
    const a = await connectTemporal({ address: first.address });
    // No worker polls this queue: the execution simply stays open.
    await a.client.workflow.start('nothingRunsThis', { workflowId, taskQueue: 'nobody-polls' });
    await a.close();
    await first.stop();
    expect(alive(first.pid)).toBe(false);

    const second = await startTemporalDevServer({ cli, dbFile, headless: true });
    try {
      const b = await connectTemporal({ address: second.address });
      const described = await b.client.workflow.getHandle(workflowId).describe();
      expect(described.status.name).toBe('RUNNING');
      await b.close();
    } finally {
      await second.stop();
    }
    expect(alive(second.pid)).toBe(false);
  });

  it('serves the Web UI unless headless', async () => {
    const server = await startTemporalDevServer({ cli });
    try {
      expect(server.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = await fetch(server.uiUrl).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('refuses a port that is already taken instead of reporting the other server as ready', async () => {
    const server = await startTemporalDevServer({ cli, headless: true });
    try {
      const port = Number(server.address.split(':')[1]);
      await expect(
        startTemporalDevServer({ cli, headless: true, port, readyTimeoutMs: 20_000 }),
      ).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      await server.stop();
    }
  });
});

describe('TemporalJobOrchestrator without a reachable Temporal', () => {
  it('answers UNAVAILABLE with an actionable message', async () => {
    const db = await createTestDb();
    const server = await startTemporalDevServer({ cli, headless: true });
    const temporal = await connectTemporal({ address: server.address });
    try {
      const { project } = await seedProject(db);
      const job = await db.repos.jobs.create({
        projectId: project.id,
        submissionKind: 'finetune',
        spec: {},
        specHash: 'x',
        createdBy: 'test',
      });
      await server.stop();
      const orchestrator = createTemporalJobOrchestrator({ client: temporal.client, db });
      await expect(orchestrator.cancel(job.id, 'user:x')).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        statusCode: 503,
        message: expect.stringMatching(/^The workflow service \(Temporal\) cannot be reached/),
      });
      await expect(orchestrator.start(randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await temporal.close();
      await server.stop();
      await db.cleanup();
    }
  });
});
