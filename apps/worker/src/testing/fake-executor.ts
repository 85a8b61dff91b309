import type { RuntimeEvent } from '@llmops/spec';
import type { ExecutionObserver, ExecutionOutcome, Executor, RunRequest } from '@llmops/core';

/** How one simulated attempt behaves. */
export interface FakeAttemptScript {
  /** Steps of the whole run (an attempt resuming at step s runs s+1…steps). */
  steps: number;
  stepMs: number;
  checkpointEvery: number;
  /** End the attempt with a failure when it reaches this step. */
  failAt?: { step: number; retryable: boolean; message: string };
}

export type FakeScript = (req: RunRequest) => FakeAttemptScript;

type Checkpoint = { step: number; path: string };

/** One simulated runtime process: it runs on its own, whoever observes it. */
class FakeProcess {
  readonly events: RuntimeEvent[] = [];
  outcome: ExecutionOutcome | null = null;
  private stopRequested = false;
  private cancelled = false;
  private wake: (() => void) | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly req: RunRequest,
    private readonly script: FakeAttemptScript,
    private readonly checkpoints: Checkpoint[],
  ) {
    void this.main();
  }

  get live(): boolean {
    return this.outcome === null;
  }

  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }

  /** Resolves at the next event or at the end. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  private notify(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private emit(event: RuntimeEvent): void {
    this.events.push(event);
    this.notify();
  }

  private end(outcome: ExecutionOutcome): void {
    this.outcome = outcome;
    this.notify();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private startStep(): number {
    const from = this.req.spec.checkpoint.resume_from;
    if (from === null) return 0;
    if (from === 'latest') return this.checkpoints.at(-1)?.step ?? 0;
    const known = this.checkpoints.find((c) => c.path === from);
    if (!known) throw new Error(`no checkpoint at ${from}`);
    return known.step;
  }

  private checkpoint(step: number): Checkpoint {
    const c = { step, path: `${this.req.spec.checkpoint.dir}/step-${step}` };
    this.checkpoints.push(c);
    this.emit({ type: 'checkpoint', ts: Date.now() / 1000, step, path: c.path });
    return c;
  }

  private async main(): Promise<void> {
    await Promise.resolve();
    const ts = () => Date.now() / 1000;
    const s = this.script;
    let start: number;
    try {
      start = this.startStep();
    } catch (error) {
      this.end(failed(false, (error as Error).message, null));
      return;
    }
    this.emit({
      type: 'started',
      ts: ts(),
      mode: this.req.spec.mode,
      resumed_from_step: this.req.spec.checkpoint.resume_from === null ? null : start,
      runtime_version: 'fake-runtime 1.0',
    });
    let last: Checkpoint | null = this.checkpoints.at(-1) ?? null;
    let loss = 2;
    for (let step = start + 1; step <= s.steps; step++) {
      await this.sleep(s.stepMs);
      if (this.cancelled) return this.end({ kind: 'cancelled' });
      loss = 2 / (1 + step);
      this.emit({ type: 'progress', ts: ts(), step, total_steps: s.steps, epoch: step / s.steps });
      this.emit({ type: 'metric', ts: ts(), step, values: { loss } });
      if (step % s.checkpointEvery === 0) last = this.checkpoint(step);
      if (s.failAt && step === s.failAt.step) {
        this.emit({ type: 'log', ts: ts(), level: 'error', message: s.failAt.message });
        this.emit({
          type: 'result',
          ts: ts(),
          status: 'failed',
          step,
          metrics: { loss },
          message: s.failAt.message,
        });
        return this.end(failed(s.failAt.retryable, s.failAt.message, last));
      }
      if (this.stopRequested) {
        const c = last?.step === step ? last : this.checkpoint(step);
        this.emit({
          type: 'result',
          ts: ts(),
          status: 'checkpointed',
          step,
          metrics: { loss },
          message: null,
        });
        return this.end({ kind: 'checkpointed', checkpoint: c });
      }
    }
    if (this.cancelled) return this.end({ kind: 'cancelled' });
    this.emit({ type: 'artifact', ts: ts(), kind: 'model', path: this.req.spec.output.dir, format: 'hf' });
    this.emit({
      type: 'result',
      ts: ts(),
      status: 'succeeded',
      step: s.steps,
      metrics: { loss },
      message: null,
    });
    this.end({ kind: 'succeeded', metrics: { loss }, lastStep: s.steps });
  }
}

function failed(retryable: boolean, message: string, lastCheckpoint: Checkpoint | null): ExecutionOutcome {
  return { kind: 'failed', retryable, message, exitCode: retryable ? 20 : 30, signal: null, lastCheckpoint };
}

/**
 * The machine's process table of the fake: it outlives executor instances, the way detached runtime
 * processes outlive a worker, so a new executor re-attaches to what an old one started.
 */
export class FakeProcessTable {
  readonly processes = new Map<string, FakeProcess>();
  readonly checkpoints = new Map<string, Checkpoint[]>();
  /** Every (job, attempt) started, in order; a second start of the same attempt would show here. */
  readonly started: { jobId: string; attempt: number; spec: RunRequest['spec'] }[] = [];
  readonly reattached: { jobId: string; attempt: number }[] = [];

  liveOf(jobId: string): FakeProcess | undefined {
    for (const p of this.processes.values()) if (p.req.jobId === jobId && p.live) return p;
    return undefined;
  }

  startsOf(jobId: string) {
    return this.started.filter((s) => s.jobId === jobId);
  }
}

/**
 * An Executor with simulated runtime processes: deterministic and fast, for workflow tests where the
 * real runtime is not the point. Same contract as the local process executor: idempotent run per
 * (job, attempt) with replay from the start of the attempt, detach on abort, stop → checkpoint.
 */
export class FakeExecutor implements Executor {
  constructor(
    readonly table: FakeProcessTable,
    private readonly script: FakeScript,
  ) {}

  async run(req: RunRequest, observer: ExecutionObserver, signal?: AbortSignal): Promise<ExecutionOutcome> {
    const key = `${req.jobId}#${req.attempt}`;
    let proc = this.table.processes.get(key);
    if (proc) this.table.reattached.push({ jobId: req.jobId, attempt: req.attempt });
    else {
      if (this.table.liveOf(req.jobId))
        throw new Error(
          `job ${req.jobId} already runs another attempt; refusing to start attempt ${req.attempt}`,
        );
      const checkpoints = this.table.checkpoints.get(req.jobId) ?? [];
      this.table.checkpoints.set(req.jobId, checkpoints);
      proc = new FakeProcess(req, this.script(req), checkpoints);
      this.table.processes.set(key, proc);
      this.table.started.push({ jobId: req.jobId, attempt: req.attempt, spec: req.spec });
    }
    let delivered = 0;
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('detached');
      if (delivered < proc.events.length) {
        await observer.onEvent(proc.events[delivered++]!);
        continue;
      }
      if (proc.outcome) return proc.outcome;
      let onAbort = () => {};
      const aborted = new Promise<void>((resolve) => (onAbort = resolve));
      signal?.addEventListener('abort', onAbort, { once: true });
      await Promise.race([proc.changed(), aborted]);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async requestStop(jobId: string): Promise<boolean> {
    const p = this.table.liveOf(jobId);
    p?.stop();
    return p !== undefined;
  }

  async cancel(jobId: string): Promise<boolean> {
    const p = this.table.liveOf(jobId);
    p?.cancel();
    return p !== undefined;
  }

  async status(jobId: string) {
    const p = this.table.liveOf(jobId);
    return { running: p !== undefined, attempt: p?.req.attempt ?? null, pid: null };
  }

  logPath(jobId: string, attempt: number): string {
    return `fake://${jobId}/${attempt}.log`;
  }
}
