import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackingDispatcher, FakeMlflow, type TrackingDispatcher } from '@llmops/core';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartJobBody,
  seedQuickstart,
  type TestPlatform,
} from '../../server/src/testing/test-platform.ts';
import { runCli } from './run.ts';

let p: TestPlatform;
let url: string;
let dir: string;
let dispatcher: TrackingDispatcher;
const fake = new FakeMlflow();
const actor = 'system:worker';

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
  p = await createTestPlatform({ mlflow: fake.api() });
  url = await p.app.listen({ port: 0, host: '127.0.0.1' });
  dir = await mkdtemp(join(tmpdir(), 'llmops-cli-tracking-'));
  dispatcher = createTrackingDispatcher({
    db: p.db,
    mlflow: fake.api(),
    artifactsDir: join(dir, 'artifacts'),
    runsDir: join(dir, 'runs'),
    intervalMs: 50,
  });
});
afterAll(async () => {
  await dispatcher?.stop();
  await p?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`llmops tracking backfill (${testDbKind()})`, () => {
  it('lists, then backfills with progress, and finds nothing the second time', async () => {
    const admin = p.as(p.adminToken);
    const ids = await seedQuickstart(admin);
    const jobIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const id = (await admin.post(`${API}/training/jobs`, quickstartJobBody(ids.modelId, ids.datasetId)))
        .body.data.id as string;
      await p.db.repos.jobs.transition({ id, from: ['QUEUED'], to: 'RUNNING', actor });
      await p.db.repos.jobs.appendEvent({
        jobId: id,
        type: 'metrics',
        actor,
        detail: { points: [{ step: 1, values: { loss: 1 }, ts: 1 }] },
      });
      await p.db.repos.jobs.transition({ id, from: ['RUNNING'], to: 'FAILED', actor });
      jobIds.push(id);
    }
    // Tracking was disabled while they ran: their rows were dropped.
    await p.db.repos.tracking.pruneEnded();

    const dry = await cli(['tracking', 'backfill', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2 job(s) without an MLflow run would be backfilled');
    for (const id of jobIds) expect(dry.stdout).toContain(id);
    expect(fake.runs.size).toBe(0);

    dispatcher.start();
    const real = await cli(['tracking', 'backfill']);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('2 job(s) queued for delivery to MLflow (6 outbox row(s))');
    expect(real.stderr).toMatch(/\[1\/2\] job .* → MLflow run run\d+/);
    expect(real.stderr).toMatch(/\[2\/2\] job /);
    expect(fake.runs.size).toBe(2);

    const again = await cli(['tracking', 'backfill']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 job(s) queued');
    expect(fake.runs.size).toBe(2);
  });

  it('refuses a bad --timeout and changes nothing', async () => {
    const r = await cli(['tracking', 'backfill', '--timeout', 'soon']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--timeout must be a positive number of seconds, got 'soon'/);
  });
});
