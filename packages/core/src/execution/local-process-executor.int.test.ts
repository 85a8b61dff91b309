import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeExecutor,
  makeRunsDir,
  pidsIn,
  processState,
  recorder,
  syntheticSpec,
  waitFor,
} from './testing/harness.ts';

let runsDir: string;
let cleanup: () => Promise<void>;
let pidFile: string;

beforeEach(async () => {
  ({ dir: runsDir, cleanup } = await makeRunsDir());
  pidFile = join(runsDir, 'pids');
});
afterEach(async () => {
  // Whatever a failed test left running is stopped by pid.
  for (const pid of await pidsIn(pidFile)) if (processState(pid) === 'alive') process.kill(pid, 'SIGKILL');
  await cleanup();
});

const attemptDir = (jobId: string, n = 1) => join(runsDir, jobId, `attempt-${n}`);

describe('LocalProcessExecutor — outcomes', () => {
  it('delivers every event in order and succeeds with the result metrics', async () => {
    const ex = fakeExecutor(runsDir, {
      FAKE_PID_FILE: pidFile,
      FAKE_SPLIT_WRITES: '1',
      FAKE_STDERR: 'warming up',
    });
    const obs = recorder();
    const outcome = await ex.run({ jobId: 'ok', attempt: 1, spec: syntheticSpec('ok', 1, 4) }, obs);

    expect(outcome).toEqual({ kind: 'succeeded', metrics: { loss: 0.25 }, lastStep: 4 });
    expect(obs.events.map((e) => e.type)).toEqual([
      'started',
      ...['progress', 'metric', 'progress', 'metric', 'checkpoint'],
      ...['progress', 'metric', 'progress', 'metric', 'checkpoint'],
      'result',
    ]);
    const steps = obs.events.flatMap((e) => (e.type === 'progress' ? [e.step] : []));
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(obs.logs).toEqual([{ line: 'warming up', stream: 'stderr' }]);

    const dir = attemptDir('ok');
    const run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ pid: expect.any(Number), command: [process.execPath, expect.any(String)] });
    expect(JSON.parse(await readFile(join(dir, 'exit.json'), 'utf8'))).toMatchObject({
      exitCode: 0,
      signal: null,
      recordedBy: 'wrapper',
    });
    expect(JSON.parse(await readFile(join(dir, 'spec.json'), 'utf8')).job_id).toBe('ok');
    const log = await readFile(ex.logPath('ok', 1), 'utf8');
    expect(log).toContain('[progress] step 4/4 epoch 0');
    expect(log).toContain('[stderr] warming up');
    expect(log).toContain('[result] succeeded at step 4 loss=0.25');
    // The runtime process was collected: nothing is left of the attempt.
    const [pid] = await pidsIn(pidFile);
    expect(processState(pid!)).toBe('gone');
    expect(await ex.status('ok')).toMatchObject({ running: false, attempt: 1, pid: null });
  });

  it.each([
    [20, true, /^disk full$/],
    [30, false, /^bad data$/],
    [3, true, /^runtime exited with unexpected code 3: bad data$/],
  ])('exit %i → failed, retryable=%s', async (code, retryable, message) => {
    const error = code === 20 ? 'disk full' : 'bad data';
    const ex = fakeExecutor(runsDir, { FAKE_EXIT_CODE: String(code), FAKE_ERROR: error });
    const outcome = await ex.run(
      { jobId: `code${code}`, attempt: 1, spec: syntheticSpec(`code${code}`, 1, 3) },
      recorder(),
    );
    expect(outcome).toMatchObject({
      kind: 'failed',
      retryable,
      exitCode: code,
      signal: null,
      lastCheckpoint: { step: 2, path: `ckpt/code${code}/step-2` },
    });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(message);
  });

  it('exit 0 without a result event is a retryable failure', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_NO_RESULT: '1' });
    const outcome = await ex.run(
      { jobId: 'nores', attempt: 1, spec: syntheticSpec('nores', 1, 2) },
      recorder(),
    );
    expect(outcome).toMatchObject({
      kind: 'failed',
      retryable: true,
      exitCode: 0,
      message: 'exited 0 without a result event',
    });
  });

  it('passes plain lines on, prefixes and counts invalid event lines, and names the garbage in a failure', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_GARBAGE: '3', FAKE_EXIT_CODE: '20', FAKE_ERROR: 'oops' });
    const obs = recorder();
    const outcome = await ex.run({ jobId: 'garbage', attempt: 1, spec: syntheticSpec('garbage', 1, 1) }, obs);
    expect(obs.logs[0]).toEqual({ line: 'hello from the runtime', stream: 'stdout' });
    const invalid = obs.logs.filter((l) => l.line.startsWith('[invalid event: '));
    expect(invalid).toHaveLength(3);
    expect(invalid[0]!.line).toBe('[invalid event: not valid JSON] {not json');
    expect(invalid[1]!.line).toMatch(/^\[invalid event: .*step.*\] \{"type":"progress","step":"x"\}$/);
    expect(outcome.kind === 'failed' && outcome.message).toBe(
      'oops (it also printed 3 invalid event lines, first: not valid JSON in {not json)',
    );
  });

  it('a runtime that kills itself with SIGKILL → failed, retryable, says it was killed', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_CRASH_AT: '2' });
    const outcome = await ex.run(
      { jobId: 'crash', attempt: 1, spec: syntheticSpec('crash', 1, 5) },
      recorder(),
    );
    expect(outcome).toMatchObject({ kind: 'failed', retryable: true, exitCode: null, signal: 'SIGKILL' });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/^runtime was killed by SIGKILL/);
  });

  it('a runtime killed with SIGKILL from outside → failed, retryable', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile, FAKE_HANG: '1' });
    const done = ex.run({ jobId: 'killed', attempt: 1, spec: syntheticSpec('killed', 1, 1) }, recorder());
    const [pid] = await waitFor('the runtime pid', () => pidsIn(pidFile).then((p) => p.length > 0 && p));
    process.kill(pid!, 'SIGKILL');
    expect(await done).toMatchObject({ kind: 'failed', retryable: true, signal: 'SIGKILL' });
  });
});

describe('LocalProcessExecutor — stop and cancel', () => {
  it('requestStop → the runtime checkpoints and exits 10 → checkpointed with that checkpoint', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    const obs = recorder();
    const done = ex.run({ jobId: 'pause', attempt: 1, spec: syntheticSpec('pause', 1, 1000, 20, 4) }, obs);
    await waitFor('step 5', async () => obs.events.some((e) => e.type === 'progress' && e.step >= 5));
    expect(await ex.status('pause')).toMatchObject({ running: true, attempt: 1, pid: expect.any(Number) });
    expect((await ex.status('pause')).lastEventAt).toBeGreaterThan(Date.now() - 5_000);
    expect(await ex.requestStop('pause')).toBe(true);
    const outcome = await done;
    const lastCheckpoint = obs.events.filter((e) => e.type === 'checkpoint').at(-1);
    expect(outcome).toEqual({
      kind: 'checkpointed',
      checkpoint: {
        step: lastCheckpoint!.type === 'checkpoint' && lastCheckpoint!.step,
        path: expect.stringMatching(/^ckpt\/pause\/step-\d+$/),
      },
    });
    expect(await ex.requestStop('pause')).toBe(false);
  });

  it('cancel → cancelled, and no process is left', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile, FAKE_HANG: '1' });
    const done = ex.run({ jobId: 'cancel', attempt: 1, spec: syntheticSpec('cancel', 1, 1) }, recorder());
    const [pid] = await waitFor('the runtime pid', () => pidsIn(pidFile).then((p) => p.length > 0 && p));
    const { pid: wrapper } = await ex.status('cancel');
    expect(await ex.cancel('cancel')).toBe(true);
    expect(processState(pid!)).toBe('gone');
    expect(processState(wrapper!)).not.toBe('alive');
    expect(await done).toEqual({ kind: 'cancelled' });
    expect(await ex.cancel('cancel')).toBe(false);
  });

  it('cancel of a runtime that ignores SIGTERM kills it after the grace period', async () => {
    const ex = fakeExecutor(
      runsDir,
      { FAKE_PID_FILE: pidFile, FAKE_HANG: '1', FAKE_IGNORE_SIGTERM: '1' },
      { stopGraceMs: 300 },
    );
    const done = ex.run({ jobId: 'stubborn', attempt: 1, spec: syntheticSpec('stubborn', 1, 1) }, recorder());
    const [pid] = await waitFor('the runtime pid', () => pidsIn(pidFile).then((p) => p.length > 0 && p));
    const started = Date.now();
    expect(await ex.cancel('stubborn')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(processState(pid!)).toBe('gone');
    expect(await done).toEqual({ kind: 'cancelled' });
    expect(JSON.parse(await readFile(join(attemptDir('stubborn'), 'exit.json'), 'utf8'))).toMatchObject({
      signal: 'SIGKILL',
    });
  });

  it('nothing to stop, cancel or report for an unknown job', async () => {
    const ex = fakeExecutor(runsDir);
    expect(await ex.requestStop('nobody')).toBe(false);
    expect(await ex.cancel('nobody')).toBe(false);
    expect(await ex.status('nobody')).toEqual({
      running: false,
      attempt: null,
      pid: null,
      lastEventAt: null,
    });
  });
});

describe('LocalProcessExecutor — bad input', () => {
  it('names the problem', async () => {
    const ex = fakeExecutor(runsDir);
    const spec = syntheticSpec('a', 1);
    await expect(ex.run({ jobId: '../etc', attempt: 1, spec }, recorder())).rejects.toThrow(
      /jobId '\.\.\/etc' cannot name a run directory/,
    );
    await expect(ex.run({ jobId: 'a', attempt: 0, spec }, recorder())).rejects.toThrow(
      'attempt must be an integer ≥ 1, got 0',
    );
    await expect(ex.run({ jobId: 'b', attempt: 1, spec }, recorder())).rejects.toThrow(
      'spec names job a attempt 1, but the request is for job b attempt 1',
    );
    await expect(
      ex.run({ jobId: 'a', attempt: 1, spec: { ...spec, mode: 'nope' } as never }, recorder()),
    ).rejects.toThrow(/does not match RuntimeSpec: mode: /);
    expect(() => fakeExecutor(runsDir, {}, { command: [] })).toThrow(/command must be a non-empty array/);
    expect(() => fakeExecutor(runsDir, {}, { pollIntervalMs: 10 })).toThrow(
      'pollIntervalMs must be an integer ≥ 250, got 10',
    );
  });
});
