import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
const extraPids: number[] = [];

beforeEach(async () => {
  ({ dir: runsDir, cleanup } = await makeRunsDir());
  pidFile = join(runsDir, 'pids');
});
afterEach(async () => {
  for (const pid of [...(await pidsIn(pidFile)), ...extraPids.splice(0)])
    if (processState(pid) === 'alive') process.kill(pid, 'SIGKILL');
  await cleanup();
});

const attemptFile = (jobId: string, name: string, n = 1) => join(runsDir, jobId, `attempt-${n}`, name);
const runtimePid = () => waitFor('the runtime pid', () => pidsIn(pidFile).then((p) => p.length > 0 && p[0]));

/** Starts a run and detaches from it once `minStep` was reached, as a worker that goes away would. */
async function startThenDetach(
  env: Record<string, string>,
  jobId: string,
  steps: number,
  stepMs: number,
  minStep = 2,
) {
  const first = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile, ...env });
  const obs = recorder();
  const abort = new AbortController();
  const done = first.run(
    { jobId, attempt: 1, spec: syntheticSpec(jobId, 1, steps, stepMs) },
    obs,
    abort.signal,
  );
  await waitFor(`step ${minStep}`, async () =>
    obs.events.some((e) => e.type === 'progress' && e.step >= minStep),
  );
  abort.abort(new Error('worker shutting down'));
  await expect(done).rejects.toThrow('worker shutting down');
  return { obs };
}

describe('LocalProcessExecutor — re-attach after the platform went away', () => {
  it('a second executor re-attaches to the running attempt: one process, all events from the start, the outcome', async () => {
    const { obs: before } = await startThenDetach({}, 'again', 30, 30);
    const pid = await runtimePid();
    expect(processState(pid)).toBe('alive');

    const restarted = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    expect(await restarted.status('again')).toMatchObject({ running: true, attempt: 1 });
    const obs = recorder();
    const outcome = await restarted.run(
      { jobId: 'again', attempt: 1, spec: syntheticSpec('again', 1, 30, 30) },
      obs,
    );

    expect(outcome).toEqual({ kind: 'succeeded', metrics: { loss: 1 / 30 }, lastStep: 30 });
    expect(await pidsIn(pidFile)).toEqual([pid]);
    expect(obs.events[0]?.type).toBe('started');
    expect(obs.events.flatMap((e) => (e.type === 'progress' ? [e.step] : []))).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect(obs.events.slice(0, before.events.length)).toEqual(before.events);
    const log = await readFile(restarted.logPath('again', 1), 'utf8');
    expect(log.match(/\[started\]/g)).toHaveLength(1);
    expect(processState(pid)).toBe('gone');
  });

  it('an attempt that ended while nobody followed it is replayed and its outcome recorded', async () => {
    await startThenDetach({ FAKE_EXIT_CODE: '30', FAKE_ERROR: 'unsupported model' }, 'ended', 30, 50);
    await waitFor('exit.json', () => readFile(attemptFile('ended', 'exit.json'), 'utf8').catch(() => null));
    const obs = recorder();
    const restarted = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    const outcome = await restarted.run(
      { jobId: 'ended', attempt: 1, spec: syntheticSpec('ended', 1, 30, 50) },
      obs,
    );
    expect(outcome).toMatchObject({
      kind: 'failed',
      retryable: false,
      message: 'unsupported model',
      exitCode: 30,
    });
    expect(obs.events.at(-1)).toMatchObject({ type: 'result', status: 'failed' });
    expect(JSON.parse(await readFile(attemptFile('ended', 'outcome.json'), 'utf8'))).toEqual(outcome);
    expect(await pidsIn(pidFile)).toHaveLength(1);
  });

  it('run() of a finished attempt returns the recorded outcome at once, starting nothing', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    const spec = syntheticSpec('done', 1, 3);
    const first = await ex.run({ jobId: 'done', attempt: 1, spec }, recorder());
    const obs = recorder();
    const started = Date.now();
    const second = await fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile }).run(
      { jobId: 'done', attempt: 1, spec },
      obs,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(second).toEqual(first);
    expect(obs.events).toEqual([]);
    expect(await pidsIn(pidFile)).toHaveLength(1);
  });

  it('a wrapper killed while detached leaves no runtime behind and the attempt fails retryably', async () => {
    await startThenDetach({ FAKE_HANG: '1' }, 'orphan', 2, 10);
    const pid = await runtimePid();
    const run = JSON.parse(await readFile(attemptFile('orphan', 'run.json'), 'utf8'));
    process.kill(run.pid, 'SIGKILL'); // the wrapper only: the runtime lives on, orphaned
    await waitFor('the wrapper to die', async () => processState(run.pid) !== 'alive');
    expect(processState(pid)).toBe('alive');

    const outcome = await fakeExecutor(runsDir).run(
      { jobId: 'orphan', attempt: 1, spec: syntheticSpec('orphan', 1, 2, 10) },
      recorder(),
    );
    expect(outcome).toMatchObject({ kind: 'failed', retryable: true, exitCode: null, signal: null });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(
      /^runtime was killed: its process group disappeared/,
    );
    await waitFor('the orphaned runtime to be killed', async () => processState(pid) !== 'alive');
    expect(JSON.parse(await readFile(attemptFile('orphan', 'exit.json'), 'utf8'))).toMatchObject({
      recordedBy: 'supervisor',
    });
  });

  it('a recorded pid now held by another process is not taken for the runtime, nor signalled', async () => {
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    extraPids.push(stranger.pid!);
    const spec = syntheticSpec('reused', 1);
    await mkdir(join(runsDir, 'reused', 'attempt-1'), { recursive: true });
    await writeFile(attemptFile('reused', 'spec.json'), JSON.stringify(spec));
    await writeFile(
      attemptFile('reused', 'run.json'),
      JSON.stringify({
        pid: stranger.pid,
        startTime: '1',
        command: ['x'],
        startedAt: new Date().toISOString(),
      }),
    );
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    expect(await ex.status('reused')).toMatchObject({ running: false, pid: null });
    expect(await ex.requestStop('reused')).toBe(false);
    const outcome = await ex.run({ jobId: 'reused', attempt: 1, spec }, recorder());
    expect(outcome).toMatchObject({ kind: 'failed', retryable: true });
    expect(processState(stranger.pid!)).toBe('alive');
    expect(await pidsIn(pidFile)).toEqual([]);
  });

  it('a claim left by a platform that died before spawning is taken over after a wait', async () => {
    const spec = syntheticSpec('stale', 1, 2);
    await mkdir(join(runsDir, 'stale', 'attempt-1'), { recursive: true });
    await writeFile(attemptFile('stale', 'spec.json'), JSON.stringify(spec));
    const outcome = await fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile }).run(
      { jobId: 'stale', attempt: 1, spec },
      recorder(),
    );
    expect(outcome.kind).toBe('succeeded');
    expect(await pidsIn(pidFile)).toHaveLength(1);
  });

  it('an observer that throws detaches without stopping the run; a newer run() supersedes an older one', async () => {
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    const spec = syntheticSpec('flaky', 1, 100, 20);
    const failing = recorder();
    failing.onEvent = (e) => {
      if (e.type === 'progress' && e.step === 2) throw new Error('database unavailable');
    };
    await expect(ex.run({ jobId: 'flaky', attempt: 1, spec }, failing)).rejects.toThrow(
      'database unavailable',
    );
    expect(await ex.status('flaky')).toMatchObject({ running: true });

    const olderObs = recorder();
    const older = ex.run({ jobId: 'flaky', attempt: 1, spec }, olderObs);
    await waitFor('the older call to follow', async () => olderObs.events.length > 0);
    const newer = recorder();
    const outcome = ex.run({ jobId: 'flaky', attempt: 1, spec }, newer);
    await expect(older).rejects.toThrow('run() of job flaky attempt 1 was superseded by a newer call');
    expect(await outcome).toMatchObject({ kind: 'succeeded', lastStep: 100 });
    expect(newer.events.filter((e) => e.type === 'progress')).toHaveLength(100);
    expect(await pidsIn(pidFile)).toHaveLength(1);
  });

  it('refuses to start attempt 2 while attempt 1 still runs', async () => {
    await startThenDetach({ FAKE_HANG: '1' }, 'twice', 2, 10);
    const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile });
    await expect(
      ex.run({ jobId: 'twice', attempt: 2, spec: syntheticSpec('twice', 2) }, recorder()),
    ).rejects.toThrow(
      /^job twice still runs attempt 1 \(pid \d+\); stop or cancel it before starting attempt 2$/,
    );
    expect(await ex.cancel('twice')).toBe(true);
    expect(JSON.parse(await readFile(attemptFile('twice', 'outcome.json'), 'utf8'))).toEqual({
      kind: 'cancelled',
    });
    expect(await ex.run({ jobId: 'twice', attempt: 1, spec: syntheticSpec('twice', 1) }, recorder())).toEqual(
      {
        kind: 'cancelled',
      },
    );
    expect(await pidsIn(pidFile)).toHaveLength(1);
  });
});
