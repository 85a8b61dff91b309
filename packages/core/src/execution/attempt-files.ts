import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ExecutionOutcome } from './executor.ts';
import type { ExitRecord } from './outcome.ts';

/**
 * On-disk layout of one attempt, `<runsDir>/<jobId>/attempt-<n>/`. The files are the source of truth: a
 * restarted platform rebuilds everything it needs from them.
 */
export interface AttemptPaths {
  dir: string;
  spec: string;
  /** The runtime's stdout, written by the OS straight into the file. */
  events: string;
  stderr: string;
  /** pid, process start time, command: written by the supervisor right after spawning. */
  run: string;
  /** The wrapper shell's own pid, written by the wrapper first thing (covers a crash before run.json). */
  wrapperPid: string;
  /** Exit code / signal, written by the wrapper when the runtime ends (or by the supervisor if it vanished). */
  exit: string;
  /** Present once cancel() was asked for: the attempt's outcome is `cancelled` whatever the exit code. */
  cancel: string;
  /** The outcome, written once it was computed and every event was delivered. */
  outcome: string;
  /** Combined human log: events rendered, plain stdout, stderr prefixed. Derived; rebuilt on re-attach. */
  log: string;
}

const SAFE_JOB_ID = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,199}$/;

export function assertJobId(jobId: string): void {
  if (typeof jobId !== 'string' || !SAFE_JOB_ID.test(jobId))
    throw new Error(
      `jobId '${String(jobId)}' cannot name a run directory: use 1-200 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
}

export function assertAttempt(attempt: number): void {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new Error(`attempt must be an integer ≥ 1, got ${String(attempt)}`);
}

export function attemptPaths(runsDir: string, jobId: string, attempt: number): AttemptPaths {
  assertJobId(jobId);
  assertAttempt(attempt);
  const dir = join(runsDir, jobId, `attempt-${attempt}`);
  const f = (name: string) => join(dir, name);
  return {
    dir,
    spec: f('spec.json'),
    events: f('events.jsonl'),
    stderr: f('stderr.log'),
    run: f('run.json'),
    wrapperPid: f('wrapper.pid'),
    exit: f('exit.json'),
    cancel: f('cancel.json'),
    outcome: f('outcome.json'),
    log: f('run.log'),
  };
}

/** Attempt numbers that exist for a job, highest first. */
export async function listAttempts(runsDir: string, jobId: string): Promise<number[]> {
  assertJobId(jobId);
  const names = await readdir(join(runsDir, jobId)).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names
    .map((n) => /^attempt-([1-9][0-9]*)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

const runRecordSchema = z.object({
  pid: z.number().int().positive(),
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); null where /proc is not available. */
  startTime: z.string().nullable(),
  command: z.array(z.string()),
  startedAt: z.string(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

const exitRecordSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  finishedAt: z.string(),
  recordedBy: z.enum(['wrapper', 'supervisor']),
});

const checkpoint = z.object({ step: z.number(), path: z.string() }).nullable();
const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('succeeded'), metrics: z.record(z.string(), z.number()), lastStep: z.number() }),
  z.object({ kind: z.literal('checkpointed'), checkpoint }),
  z.object({ kind: z.literal('cancelled') }),
  z.object({
    kind: z.literal('failed'),
    retryable: z.boolean(),
    message: z.string(),
    exitCode: z.number().nullable(),
    signal: z.string().nullable(),
    lastCheckpoint: checkpoint,
  }),
]);

async function readRecord<T>(path: string, schema: z.ZodType<T>): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  const r = schema.safeParse(value);
  if (!r.success)
    throw new Error(
      `${path} is malformed: ${r.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

export const readRunRecord = (p: AttemptPaths) => readRecord(p.run, runRecordSchema);
export const readExitRecord = (p: AttemptPaths): Promise<ExitRecord | null> =>
  readRecord(p.exit, exitRecordSchema);
export const readOutcome = (p: AttemptPaths): Promise<ExecutionOutcome | null> =>
  readRecord(p.outcome, outcomeSchema);

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
}

let tmpCounter = 0;
/** Unique per writer, so two writers of the same record never share a temporary file. */
const tmpName = (path: string) => `${path}.tmp-${process.pid}-${++tmpCounter}`;

/** Readers never see a half-written record: write aside, then rename over. */
export async function writeRecord(path: string, value: unknown): Promise<void> {
  const tmp = tmpName(path);
  await writeFile(tmp, JSON.stringify(value) + '\n');
  await rename(tmp, path);
}

/** Synchronous on purpose: spawn and this write must not be separated by a turn of the event loop. */
export function writeRecordSync(path: string, value: unknown): void {
  const tmp = tmpName(path);
  writeFileSync(tmp, JSON.stringify(value) + '\n');
  renameSync(tmp, path);
}
