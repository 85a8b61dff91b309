import { isAbsolute, relative, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { AttemptRecorder } from './attempt-recorder.ts';
import { createJobEventBatcher } from './event-batcher.ts';
import type { ActivityDeps, RunAttemptInput, RunAttemptResult, RunHeartbeat } from './types.ts';

/** The saved model's directory: output.dir, unless the runtime reported the model somewhere else. */
export function savedModelDir(reported: string | null, outputDir: string): string {
  if (reported === null) return outputDir;
  const rel = relative(resolve(outputDir), resolve(reported));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? outputDir : reported;
}

export function createRunActivities(deps: Pick<ActivityDeps, 'db' | 'executor'>) {
  const { db, executor } = deps;
  // One batcher for every run this worker supervises: their progress is written in shared statements.
  const events = createJobEventBatcher(db);
  return {
    /**
     * Supervises one attempt on the executor until it ends, heartbeating its progress. Safe to retry:
     * the executor re-attaches to a live attempt (never a second copy) and replays its events, which the
     * recorder de-duplicates. When the activity is cancelled (worker shutdown) it detaches and the
     * process keeps running for the next worker.
     */
    async runAttempt(input: RunAttemptInput): Promise<RunAttemptResult> {
      const ctx = Context.current();
      const recorder = await AttemptRecorder.open(
        db,
        input.jobId,
        input.attempt,
        input.progressIntervalMs,
        events,
      );
      const beat = () =>
        ctx.heartbeat({
          attempt: input.attempt,
          step: recorder.step,
          totalSteps: recorder.totalSteps,
          lastCheckpoint: recorder.lastCheckpoint,
        } satisfies RunHeartbeat);
      beat();
      const timer = setInterval(
        beat,
        Math.max(200, Math.min(5_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3)),
      );
      let closed = false;
      try {
        const outcome = await executor.run(
          { jobId: input.jobId, attempt: input.attempt, spec: input.spec },
          {
            // The timer carries progress; a heartbeat per event (hundreds a second across runs) would cost
            // the worker more than reading the events. A checkpoint is told at once.
            onEvent: async (event) => {
              await recorder.observe(event);
              if (event.type === 'checkpoint') beat();
            },
            onLog: () => {},
          },
          ctx.cancellationSignal,
        );
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        await recorder.close();
        closed = true;
        return {
          outcome,
          runtimeVersion: recorder.runtimeVersion,
          modelPath: savedModelDir(recorder.modelPath, input.spec.output.dir),
          lastStep: recorder.step,
          lastCheckpoint:
            outcome.kind === 'checkpointed' && outcome.checkpoint
              ? outcome.checkpoint
              : recorder.lastCheckpoint,
        };
      } finally {
        clearInterval(timer);
        // Detached or failed: a retry may re-attach elsewhere and must find this recorder's writes done.
        if (!closed) await recorder.abandon();
      }
    },

    /** Pause or preemption: the runtime writes a checkpoint and exits; false when nothing runs. */
    async requestStop(input: { jobId: string }): Promise<boolean> {
      return executor.requestStop(input.jobId);
    },

    /** Cancel: stop the attempt now, leaving no process behind; false when nothing runs. */
    async cancelRun(input: { jobId: string }): Promise<boolean> {
      return executor.cancel(input.jobId);
    },
  };
}
