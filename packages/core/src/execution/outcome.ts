import { RUNTIME_EXIT_CODES, type RuntimeEvent } from '@llmops/spec';
import type { ExecutionOutcome } from './executor.ts';

type Checkpoint = { step: number; path: string };
type ResultEvent = Extract<RuntimeEvent, { type: 'result' }>;

/** What the outcome of an attempt depends on, folded from its event log as the lines are read. */
export interface AttemptSummary {
  events: number;
  lastStep: number | null;
  lastCheckpoint: Checkpoint | null;
  result: ResultEvent | null;
  /** The last `log` event at level error, the best explanation of a failure the runtime gave. */
  lastError: string | null;
  /** The last stderr line: for a crash (a Python traceback) it usually names the exception. */
  lastStderr: string | null;
  invalidLines: number;
  firstInvalid: string | null;
}

/** How the attempt's process ended, as recorded in exit.json. */
export interface ExitRecord {
  exitCode: number | null;
  signal: string | null;
  finishedAt: string;
  /** `wrapper`: the shell around the runtime saw it end; `supervisor`: the whole group vanished unrecorded. */
  recordedBy: 'wrapper' | 'supervisor';
}

export function emptySummary(): AttemptSummary {
  return {
    events: 0,
    lastStep: null,
    lastCheckpoint: null,
    result: null,
    lastError: null,
    lastStderr: null,
    invalidLines: 0,
    firstInvalid: null,
  };
}

export function foldEvent(s: AttemptSummary, e: RuntimeEvent): void {
  s.events += 1;
  switch (e.type) {
    case 'progress':
    case 'metric':
      s.lastStep = Math.max(s.lastStep ?? 0, e.step);
      break;
    case 'checkpoint':
      s.lastCheckpoint = { step: e.step, path: e.path };
      s.lastStep = Math.max(s.lastStep ?? 0, e.step);
      break;
    case 'log':
      if (e.level === 'error') s.lastError = e.message;
      break;
    case 'result':
      s.result = e;
      break;
    default:
      break;
  }
}

export function foldInvalid(s: AttemptSummary, reason: string): void {
  s.invalidLines += 1;
  s.firstInvalid ??= reason;
}

export function foldStderr(s: AttemptSummary, line: string): void {
  if (line.trim() !== '') s.lastStderr = line.trim();
}

/**
 * Maps how the process ended plus what it printed to the outcome (SPEC C3, RUNTIME_EXIT_CODES).
 * `exit` is null when the process group disappeared without any exit record (SIGKILL of the wrapper,
 * machine restart).
 */
export function decideOutcome(
  exit: ExitRecord | null,
  s: AttemptSummary,
  cancelled: boolean,
): ExecutionOutcome {
  if (cancelled) return { kind: 'cancelled' };
  const code = exit?.exitCode ?? null;
  const signal = exit?.signal ?? null;
  if (code === RUNTIME_EXIT_CODES.SUCCEEDED) {
    if (s.result?.status === 'succeeded')
      return { kind: 'succeeded', metrics: s.result.metrics, lastStep: s.result.step };
    const why = s.result
      ? `exited 0 but its result event says '${s.result.status}'`
      : 'exited 0 without a result event';
    return failed(s, { retryable: true, message: why, code, signal });
  }
  if (code === RUNTIME_EXIT_CODES.CHECKPOINTED) return { kind: 'checkpointed', checkpoint: s.lastCheckpoint };
  if (code === RUNTIME_EXIT_CODES.RETRYABLE)
    return failed(s, {
      retryable: true,
      message: explain(s, 'reported a retryable failure (exit 20)'),
      code,
      signal,
    });
  if (code === RUNTIME_EXIT_CODES.PERMANENT)
    return failed(s, {
      retryable: false,
      message: explain(s, 'reported a permanent failure (exit 30)'),
      code,
      signal,
    });
  const how =
    code !== null
      ? `exited with unexpected code ${code}`
      : signal !== null
        ? `was killed by ${signal}`
        : 'was killed: its process group disappeared without recording an exit status (SIGKILL or a machine restart)';
  return failed(s, { retryable: true, message: withDetail(`runtime ${how}`, s), code, signal });
}

function failed(
  s: AttemptSummary,
  f: { retryable: boolean; message: string; code: number | null; signal: string | null },
): ExecutionOutcome {
  const garbage =
    s.invalidLines > 0
      ? ` (it also printed ${s.invalidLines} invalid event line${s.invalidLines === 1 ? '' : 's'}, first: ${s.firstInvalid})`
      : '';
  return {
    kind: 'failed',
    retryable: f.retryable,
    message: f.message + garbage,
    exitCode: f.code,
    signal: f.signal,
    lastCheckpoint: s.lastCheckpoint,
  };
}

/** The runtime's own words when it gave any: a failed result's message, else its last error log. */
function explain(s: AttemptSummary, fallback: string): string {
  const own = (s.result?.status === 'failed' ? s.result.message : null) ?? s.lastError;
  return own ?? withDetail(`runtime ${fallback}`, s);
}

function withDetail(message: string, s: AttemptSummary): string {
  const detail = s.lastError ?? s.lastStderr;
  return detail ? `${message}: ${detail}` : message;
}

/** One human line per event for the combined log. */
export function describeEvent(e: RuntimeEvent): string {
  const kv = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  switch (e.type) {
    case 'started':
      return `[started] mode=${e.mode} runtime=${e.runtime_version}${e.resumed_from_step === null ? '' : ` resumed from step ${e.resumed_from_step}`}`;
    case 'progress':
      return `[progress] step ${e.step}/${e.total_steps} epoch ${e.epoch}`;
    case 'metric':
      return `[metric] step ${e.step} ${kv(e.values)}`;
    case 'checkpoint':
      return `[checkpoint] step ${e.step} ${e.path}`;
    case 'artifact':
      return `[artifact] ${e.kind} ${e.path}${e.format ? ` (${e.format})` : ''}`;
    case 'log':
      return `[${e.level}] ${e.message}`;
    case 'result':
      return `[result] ${e.status} at step ${e.step}${Object.keys(e.metrics).length ? ` ${kv(e.metrics)}` : ''}${e.message ? ` — ${e.message}` : ''}`;
  }
}
