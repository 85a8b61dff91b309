import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptsUnder, type JobOrchestrator } from '@llmops/core';
import {
  API,
  createTestPlatform,
  quickstartJobBody,
  seedQuickstart,
  type TestPlatform,
} from '../../server/src/testing/test-platform.ts';
import { runCli } from './run.ts';

/** Records what the API asked the workflow engine to do; the job's state is the test's to change. */
function recordingOrchestrator() {
  const calls: string[] = [];
  const o: JobOrchestrator = {
    start: async (id) => void calls.push(`start ${id}`),
    cancel: async (id) => void calls.push(`cancel ${id}`),
    pause: async (id) => void calls.push(`pause ${id}`),
    resume: async (id) => void calls.push(`resume ${id}`),
    retry: async (id, _a, from) => void calls.push(`retry ${id} ${from ?? 'latest'}`),
    setPriority: async (id, p) => void calls.push(`priority ${id} ${p}`),
    queuePosition: async () => ({ position: 3, estimatedStart: '2030-01-01T00:00:00.000Z' }),
  };
  return { o, calls };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

interface Running {
  done: Promise<Result>;
  stdout(): string;
  stderr(): string;
  interrupt(): void;
}

let dir: string;
let runsDir: string;
const rec = recordingOrchestrator();
let p: TestPlatform;
let url: string;
let bare: TestPlatform;
let bareUrl: string;

/** Starts one command line against a platform; the test may read its output while it runs, or Ctrl-C it. */
function start(argv: string[], platformUrl = url, token = p.adminToken): Running {
  let stdout = '';
  let stderr = '';
  let onInt: (() => void) | undefined;
  const done = runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), LLMOPS_URL: platformUrl, LLMOPS_TOKEN: token },
    cwd: dir,
    onInterrupt: (fn) => {
      onInt = fn;
      return () => (onInt = undefined);
    },
  }).then((code) => ({ code, stdout, stderr }));
  return { done, stdout: () => stdout, stderr: () => stderr, interrupt: () => onInt?.() };
}

const cli = (argv: string[]) => start(argv).done;

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const seeded = new Map<TestPlatform, { modelId: string; datasetId: string }>();

async function submitJob(platform = p): Promise<string> {
  const admin = platform.as(platform.adminToken);
  const { modelId, datasetId } = seeded.get(platform)!;
  const res = await admin.post(`${API}/training/jobs`, quickstartJobBody(modelId, datasetId));
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body.data.id as string;
}

const logFile = (jobId: string, attempt = 1) => join(runsDir, jobId, `attempt-${attempt}`, 'run.log');

async function writeLog(jobId: string, lines: string[], attempt = 1): Promise<void> {
  await mkdir(join(runsDir, jobId, `attempt-${attempt}`), { recursive: true });
  await writeFile(logFile(jobId, attempt), lines.map((l) => `${l}\n`).join(''));
}

const end = (jobId: string, to: 'SUCCEEDED' | 'FAILED' | 'CANCELLED') =>
  p.db.repos.jobs.transition({ id: jobId, from: ['QUEUED'], to, actor: 'test' });

const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-cli-jobs-'));
  runsDir = join(dir, 'runs');
  p = await createTestPlatform({
    orchestrator: rec.o,
    logs: { attempts: attemptsUnder(runsDir), logPath: (id, n) => logFile(id, n) },
  });
  url = await p.app.listen({ port: 0, host: '127.0.0.1' });
  seeded.set(p, await seedQuickstart(p.as(p.adminToken)));
  bare = await createTestPlatform();
  bareUrl = await bare.app.listen({ port: 0, host: '127.0.0.1' });
  seeded.set(bare, await seedQuickstart(bare.as(bare.adminToken)));
});
afterAll(async () => {
  await p?.close();
  await bare?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('llmops jobs controls', () => {
  it('jobs get shows the queue position of a queued job', async () => {
    const id = await submitJob();
    const r = await cli(['jobs', 'get', id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(
      /^status: +QUEUED\nqueue: +queue position 3, est\. start 2030-01-01 00:00:00Z$/m,
    );
  });

  it('cancel, pause, resume and priority reach the workflow engine and say what was requested', async () => {
    const id = await submitJob();
    for (const action of ['pause', 'resume', 'cancel']) {
      const r = await cli(['jobs', action, id]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toBe(
        `${action.charAt(0).toUpperCase()}${action.slice(1)} requested for job ${id} (status: QUEUED)\n`,
      );
    }
    const prio = await cli(['jobs', 'priority', id, '90']);
    expect(prio.stdout).toBe(`Priority set to 90 for job ${id} (status: QUEUED)\n`);
    expect(rec.calls).toEqual(
      expect.arrayContaining([`pause ${id}`, `resume ${id}`, `cancel ${id}`, `priority ${id} 90`]),
    );
    const json = await cli(['jobs', 'pause', id, '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, status: 'QUEUED' });
  });

  it('a priority outside 0-100 is a usage error that never reaches the platform', async () => {
    const id = await submitJob();
    const before = rec.calls.length;
    const r = await cli(['jobs', 'priority', id, '101']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a whole number from 0 to 100, got '101'/);
    expect(rec.calls).toHaveLength(before);
  });

  it('retry sends the checkpoint, and is refused while the job has not ended', async () => {
    const id = await submitJob();
    const early = await cli(['jobs', 'retry', id]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /^error: Job \S+ is QUEUED; only FAILED or CANCELLED jobs can be retried\n$/,
    );
    await end(id, 'FAILED');
    const r = await cli(['jobs', 'retry', id, '--from-checkpoint', 'checkpoints/step-200']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`Retry requested for job ${id} (status: FAILED)\n`);
    expect(await cli(['jobs', 'retry', id])).toMatchObject({ code: 0 });
    expect(rec.calls).toEqual(
      expect.arrayContaining([`retry ${id} checkpoints/step-200`, `retry ${id} latest`]),
    );
  });

  it('without a workflow engine the controls fail with one clear line', async () => {
    const id = await submitJob(bare);
    for (const argv of [
      ['jobs', 'cancel', id],
      ['jobs', 'priority', id, '5'],
    ]) {
      const r = await start(argv, bareUrl, bare.adminToken).done;
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'error: Job execution is not available: the workflow engine is not configured or not running\n',
      });
    }
  });
});

describe('llmops jobs logs and watch', () => {
  it('prints the tail of the latest attempt, or of the one asked for', async () => {
    const id = await submitJob();
    await writeLog(id, lines(1, 10));
    await writeLog(id, ['second attempt'], 2);
    expect((await cli(['jobs', 'logs', id])).stdout).toBe('second attempt\n');
    const r = await cli(['jobs', 'logs', id, '--attempt', '1', '--tail', '3']);
    expect(r).toEqual({ code: 0, stdout: 'line 8\nline 9\nline 10\n', stderr: '' });
    const json = JSON.parse(
      (await cli(['jobs', 'logs', id, '--attempt', '1', '--tail', '2', '-o', 'json'])).stdout,
    );
    expect(json).toEqual({
      jobId: id,
      status: 'QUEUED',
      attempt: 1,
      attempts: [1, 2],
      lines: ['line 9', 'line 10'],
    });
    const missing = await cli(['jobs', 'logs', id, '--attempt', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Attempt 7 of job .+ not found/);
    const none = await cli(['jobs', 'logs', await submitJob()]);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toMatch(/has no log yet/);
  });

  it('-f prints the tail, then each new line once, and exits 0 when the job succeeds', async () => {
    const id = await submitJob();
    await writeLog(id, lines(1, 10));
    const run = start(['jobs', 'logs', id, '-f', '--tail', '3']);
    await until('the tail', () => run.stdout().includes('line 10\n'));
    await appendFile(logFile(id), 'line 11\nline 12\n');
    await until('the new lines', () => run.stdout().includes('line 12\n'));
    await end(id, 'SUCCEEDED');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('line 8\nline 9\nline 10\nline 11\nline 12\n');
    expect(r.stderr).toBe('status: SUCCEEDED\n');
  });

  it('-f exits 1 when the job fails, and at once for a job that has already ended', async () => {
    const id = await submitJob();
    await writeLog(id, ['starting']);
    const run = start(['jobs', 'logs', id, '--follow']);
    await until('the tail', () => run.stdout().includes('starting\n'));
    await end(id, 'FAILED');
    expect(await run.done).toEqual({ code: 1, stdout: 'starting\n', stderr: 'status: FAILED\n' });
    expect(await cli(['jobs', 'logs', id, '-f'])).toEqual({ code: 1, stdout: 'starting\n', stderr: '' });
  });

  it('-f stops cleanly on Ctrl-C with exit code 130, and refuses --attempt and -o json', async () => {
    const id = await submitJob();
    await writeLog(id, ['hello']);
    const run = start(['jobs', 'logs', id, '-f']);
    await until('the tail', () => run.stdout().includes('hello\n'));
    await new Promise((r) => setTimeout(r, 300));
    run.interrupt();
    expect(await run.done).toEqual({ code: 130, stdout: 'hello\n', stderr: '' });
    expect(await cli(['jobs', 'logs', id, '-f', '--attempt', '1'])).toMatchObject({
      code: 2,
      stderr: 'error: --follow follows the latest attempt; leave out --attempt\n',
    });
    expect((await cli(['jobs', 'logs', id, '-f', '-o', 'json'])).code).toBe(2);
  });

  it('watch prints the state, queue position, step and loss as plain lines until the job ends', async () => {
    const id = await submitJob();
    await writeLog(id, [
      '[started] mode=synthetic',
      '[progress] step 5/50 epoch 0',
      '[metric] step 5 loss=2.5',
    ]);
    const run = start(['jobs', 'watch', id, '--interval', '0.2']);
    await until('the step', () => run.stdout().includes('step 5/50'));
    await end(id, 'CANCELLED');
    const r = await run.done;
    expect(r.code).toBe(1);
    const shown = r.stdout.split('\n').filter(Boolean);
    expect(shown[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}QUEUED · queue position 3, est\. start 2030-01-01 00:00:00Z$/,
    );
    expect(shown).toContainEqual(
      expect.stringMatching(
        / QUEUED · queue position 3, est\. start \S+ \S+ · attempt 1 · step 5\/50 · loss 2\.5$/,
      ),
    );
    expect(shown.at(-1)).toMatch(/Z {2}CANCELLED · attempt 1 · step 5\/50 · loss 2\.5$/);
    expect(new Set(shown.map((l) => l.slice(22))).size).toBe(shown.length);
  });
});
