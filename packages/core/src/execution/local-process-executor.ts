import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runtimeSpecSchema } from '@llmops/spec';
import type { ExecutionObserver, ExecutionOutcome, Executor, RunRequest } from './executor.ts';
import {
  assertAttempt,
  assertJobId,
  attemptPaths,
  exists,
  listAttempts,
  readOutcome,
  readRunRecord,
  writeRecord,
  type AttemptPaths,
  type RunRecord,
} from './attempt-files.ts';
import { attachOrStart, type AttachedProcess } from './attach-or-start.ts';
import { AttemptFollower } from './attempt-follower.ts';
import { groupMembers, isAlive, signalGroup, signalProcess } from './process-probe.ts';

export interface HeartbeatHint {
  jobId: string;
  attempt: number;
  pid: number;
  /** Last write of the runtime to its stdout (ms since the epoch); null before the first. */
  lastEventAt: number | null;
}

export interface LocalProcessExecutorOptions {
  /** `<LLMOPS_HOME>/runs`: one directory per job, one per attempt below it. */
  runsDir: string;
  /** The runtime's command line, e.g. `[venvPython, '-m', 'llmops_runtime']`. */
  command: string[];
  /** Added to the runtime's environment (credentials, tracking URIs). The platform's own is not passed on. */
  env?: Record<string, string>;
  /** Between SIGTERM and SIGKILL on cancel. Default 10 s. */
  stopGraceMs?: number;
  /** Fallback wake-up of every followed run (file watchers do the quick part). Default 1 s, at least 250 ms. */
  pollIntervalMs?: number;
  /** Called for each followed run on every poll interval, so the caller can heartbeat while a step is long. */
  heartbeatHint?: (hint: HeartbeatHint) => void;
}

export interface LocalExecutorStatus {
  running: boolean;
  /** The running attempt, or else the latest one that exists; null when the job never ran here. */
  attempt: number | null;
  pid: number | null;
  lastEventAt: number | null;
}

export interface LocalProcessExecutor extends Executor {
  status(jobId: string): Promise<LocalExecutorStatus>;
  /** Detaches from every followed run and stops the timer; the processes keep running (worker shutdown). */
  close(): void;
}

/** Only these are inherited from the platform: its secrets (database URL, tokens) stay out of the runtime. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'];
/** After SIGKILL, how long the executor waits for the kernel to remove the processes. */
const KILL_WAIT_MS = 5_000;

interface Followed {
  jobId: string;
  attempt: number;
  follower: AttemptFollower;
}

export function createLocalProcessExecutor(opts: LocalProcessExecutorOptions): LocalProcessExecutor {
  const cfg = checkOptions(opts);
  const followed = new Map<string, Followed>();
  let timer: NodeJS.Timeout | null = null;

  const syncTimer = () => {
    if (followed.size > 0 && timer === null) timer = setInterval(onTimer, cfg.pollIntervalMs);
    if (followed.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
  const onTimer = () => {
    for (const f of followed.values()) {
      f.follower.tick();
      opts.heartbeatHint?.({
        jobId: f.jobId,
        attempt: f.attempt,
        pid: f.follower.record.pid,
        lastEventAt: f.follower.lastEventAt,
      });
    }
  };

  async function follow(
    req: RunRequest,
    p: AttemptPaths,
    proc: AttachedProcess,
    observer: ExecutionObserver,
    signal?: AbortSignal,
  ) {
    const key = `${req.jobId}\0${req.attempt}`;
    followed
      .get(key)
      ?.follower.detach(
        new Error(`run() of job ${req.jobId} attempt ${req.attempt} was superseded by a newer call`),
      );
    const follower = new AttemptFollower(p, proc.record, observer, proc.child);
    followed.set(key, { jobId: req.jobId, attempt: req.attempt, follower });
    syncTimer();
    const onAbort = () => follower.detach(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort(); // aborted while the process was being started or found
    try {
      await follower.start().catch((e: unknown) => follower.detach(e));
      return await follower.done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (followed.get(key)?.follower === follower) followed.delete(key);
      syncTimer();
    }
  }

  async function runningAttempt(jobId: string) {
    for (const attempt of await listAttempts(cfg.runsDir, jobId)) {
      const p = attemptPaths(cfg.runsDir, jobId, attempt);
      const record = await readRunRecord(p);
      if (record && !(await exists(p.exit)) && isAlive(record.pid, record.startTime))
        return { attempt, paths: p, record };
    }
    return null;
  }

  async function assertNoOtherAttemptRuns(jobId: string, attempt: number) {
    const current = await runningAttempt(jobId);
    if (current && current.attempt !== attempt)
      throw new Error(
        `job ${jobId} still runs attempt ${current.attempt} (pid ${current.record.pid}); stop or cancel it before starting attempt ${attempt}`,
      );
  }

  return {
    async run(req, observer, signal): Promise<ExecutionOutcome> {
      const spec = checkRequest(req);
      signal?.throwIfAborted();
      const p = attemptPaths(cfg.runsDir, req.jobId, req.attempt);
      const recorded = await readOutcome(p);
      if (recorded) return recorded;
      if (!(await exists(p.run))) await assertNoOtherAttemptRuns(req.jobId, req.attempt);
      const proc = await attachOrStart(p, spec, { command: cfg.command, env: runtimeEnv(cfg.env, p, req) });
      return follow(req, p, proc, observer, signal);
    },

    async requestStop(jobId) {
      const current = await runningAttempt(jobId);
      return current !== null && signalGroup(current.record.pid, 'SIGTERM');
    },

    async cancel(jobId) {
      const current = await runningAttempt(jobId);
      if (!current) return false;
      // Recorded first, so whoever notices the end of the process reports `cancelled`.
      await writeRecord(current.paths.cancel, { requestedAt: new Date().toISOString() });
      await terminate(current.record, cfg.stopGraceMs);
      if (!followed.has(`${jobId}\0${current.attempt}`))
        await writeRecord(current.paths.outcome, { kind: 'cancelled' });
      return true;
    },

    async status(jobId) {
      assertJobId(jobId);
      const current = await runningAttempt(jobId);
      const attempt = current?.attempt ?? (await listAttempts(cfg.runsDir, jobId))[0] ?? null;
      if (attempt === null) return { running: false, attempt: null, pid: null, lastEventAt: null };
      const live = followed.get(`${jobId}\0${attempt}`)?.follower.lastEventAt;
      return {
        running: current !== null,
        attempt,
        pid: current?.record.pid ?? null,
        lastEventAt: live ?? (await lastWriteAt(attemptPaths(cfg.runsDir, jobId, attempt).events)),
      };
    },

    logPath: (jobId, attempt) => attemptPaths(cfg.runsDir, jobId, attempt).log,

    close() {
      for (const f of followed.values()) f.follower.detach(new Error('the executor was closed'));
      followed.clear();
      syncTimer();
    },
  };
}

/**
 * SIGTERM to the group; after the grace period SIGKILL to everything but the wrapper, so the wrapper can still
 * collect the runtime and record its end; the whole group only if that did not work.
 */
async function terminate(record: RunRecord, graceMs: number): Promise<void> {
  const { pid, startTime } = record;
  signalGroup(pid, 'SIGTERM');
  if (await waitGone(record, graceMs)) return;
  if (!isAlive(pid, startTime)) return;
  const others = groupMembers(pid, pid);
  for (const member of others ?? []) signalProcess(member, 'SIGKILL');
  if (others !== null && (await waitGone(record, KILL_WAIT_MS))) return;
  signalGroup(pid, 'SIGKILL');
  if (!(await waitGone(record, KILL_WAIT_MS)))
    throw new Error(`process ${pid} did not go away ${KILL_WAIT_MS} ms after SIGKILL`);
}

/** Bounded: used only while cancelling, so a short interval costs nothing. */
async function waitGone(record: RunRecord, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isAlive(record.pid, record.startTime)) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

async function lastWriteAt(path: string): Promise<number | null> {
  const st = await stat(path).catch(() => null);
  return st && st.size > 0 ? st.mtimeMs : null;
}

function runtimeEnv(extra: Record<string, string>, p: AttemptPaths, req: RunRequest): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return {
    ...env,
    // stdout is a file, which Python would otherwise block-buffer: events would arrive late and in bursts.
    PYTHONUNBUFFERED: '1',
    ...extra,
    LLMOPS_SPEC: p.spec,
    LLMOPS_WORK_DIR: p.dir,
    LLMOPS_JOB_ID: req.jobId,
    LLMOPS_ATTEMPT: String(req.attempt),
  };
}

function checkOptions(opts: LocalProcessExecutorOptions) {
  if (typeof opts.runsDir !== 'string' || opts.runsDir.trim() === '')
    throw new Error('runsDir must be a non-empty directory path');
  const { command } = opts;
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    command.some((c) => typeof c !== 'string' || c === '')
  )
    throw new Error(
      'command must be a non-empty array of non-empty strings, e.g. [python, "-m", "llmops_runtime"]',
    );
  const stopGraceMs = opts.stopGraceMs ?? 10_000;
  if (!Number.isInteger(stopGraceMs) || stopGraceMs < 0)
    throw new Error(`stopGraceMs must be an integer ≥ 0, got ${String(opts.stopGraceMs)}`);
  const pollIntervalMs = opts.pollIntervalMs ?? 1_000;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 250)
    throw new Error(`pollIntervalMs must be an integer ≥ 250, got ${String(opts.pollIntervalMs)}`);
  return {
    runsDir: resolve(opts.runsDir),
    command: [...command],
    env: { ...opts.env },
    stopGraceMs,
    pollIntervalMs,
  };
}

function checkRequest(req: RunRequest) {
  assertJobId(req.jobId);
  assertAttempt(req.attempt);
  const r = runtimeSpecSchema.safeParse(req.spec);
  if (!r.success)
    throw new Error(
      `spec of job ${req.jobId} attempt ${req.attempt} does not match RuntimeSpec: ${r.error.issues
        .map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`)
        .join('; ')}`,
    );
  if (r.data.job_id !== req.jobId || r.data.attempt !== req.attempt)
    throw new Error(
      `spec names job ${r.data.job_id} attempt ${r.data.attempt}, but the request is for job ${req.jobId} attempt ${req.attempt}`,
    );
  return r.data;
}
