import type { RuntimeEvent, RuntimeSpec } from '@llmops/spec';

export interface RunRequest {
  jobId: string;
  attempt: number; // 1, 2, … (retries and resumes are new attempts)
  spec: RuntimeSpec; // resolved spec written to <runDir>/spec.json for the runtime
}
export interface ExecutionObserver {
  onEvent(event: RuntimeEvent): void | Promise<void>; // every valid JSON-lines event, in order
  onLog(line: string, stream: 'stdout' | 'stderr'): void; // plain lines (and invalid event lines, prefixed)
}
export type ExecutionOutcome =
  | { kind: 'succeeded'; metrics: Record<string, number>; lastStep: number }
  | { kind: 'checkpointed'; checkpoint: { step: number; path: string } | null } // exit 10 after stop request
  | { kind: 'cancelled' } // killed on purpose
  | {
      kind: 'failed';
      retryable: boolean;
      message: string;
      exitCode: number | null;
      signal: string | null;
      lastCheckpoint: { step: number; path: string } | null;
    };

export interface Executor {
  /**
   * Runs one attempt to completion. Idempotent per (jobId, attempt): if that attempt is already running — for
   * instance started before a crash of the platform — it re-attaches to it instead of starting a second copy,
   * replaying events from the start of its event log, then following it; if it already finished, it returns the
   * recorded outcome. `signal` aborting = detach without stopping the process (the worker shutting down).
   */
  run(req: RunRequest, observer: ExecutionObserver, signal?: AbortSignal): Promise<ExecutionOutcome>;
  /** Pause/preemption: SIGTERM → the runtime checkpoints and exits 10. Returns false when nothing runs. */
  requestStop(jobId: string): Promise<boolean>;
  /** Cancel: stop now (SIGTERM, then SIGKILL after a grace period) and record the attempt as cancelled. */
  cancel(jobId: string): Promise<boolean>;
  /** What runs now, for supervision and for the API. */
  status(jobId: string): Promise<{ running: boolean; attempt: number | null; pid: number | null }>;
  /** The attempt's combined log file (for GET …/logs and streaming). */
  logPath(jobId: string, attempt: number): string;
}
