import type { AppendJobEventInput, Db } from '@llmops/db';
import type { CheckpointRef, RuntimeEvent } from '@llmops/spec';
import { directJobEventSink, type JobEventSink } from './event-batcher.ts';

const RECORDED_TYPES = new Set(['progress', 'metrics', 'checkpoint', 'artifact']);
export const WORKER_ACTOR = 'system:worker';

/**
 * Turns the runtime events of one attempt into job events:
 * - `progress` (latest step, epoch) and `metrics` (every metric point, batched) at most every
 *   `intervalMs`; `checkpoint` and `artifact` at once, after whatever was pending before them.
 * - Each metric point keeps the runtime's `ts` (ms), so the tracker's timestamp is fixed when the point is
 *   stored and a re-delivered point is identical.
 * - Each written event carries `seq`, the ordinal of the last runtime event it covers. The executor
 *   replays an attempt's events from the start when the supervision re-attaches (another worker, a
 *   retry), so everything up to the highest recorded `seq` is skipped: no duplicate, no gap.
 * Each flush writes what is queued in one statement; writes that fail (database down) stay queued in
 * order and are retried on the next flush.
 */
export class AttemptRecorder {
  step: number | null = null;
  totalSteps: number | null = null;
  lastCheckpoint: CheckpointRef | null = null;
  runtimeVersion: string | null = null;
  modelPath: string | null = null;

  private seq = 0;
  private progress: { step: number; totalSteps: number; epoch: number; seq: number } | null = null;
  private points: { step: number; values: Record<string, number>; ts: number }[] = [];
  private pointsSeq = 0;
  private readonly queue: AppendJobEventInput[] = [];
  private lastFlush = Date.now();
  private inflight: Promise<void> = Promise.resolve();
  private abandoned = false;

  private constructor(
    private readonly sink: JobEventSink,
    private readonly jobId: string,
    private readonly attempt: number,
    private readonly intervalMs: number,
    private readonly watermark: number,
  ) {}

  /** `sink` is where the events go (by default one statement per flush; the worker shares a batcher). */
  static async open(
    db: Db,
    jobId: string,
    attempt: number,
    intervalMs: number,
    sink: JobEventSink = directJobEventSink(db),
  ): Promise<AttemptRecorder> {
    let watermark = 0;
    for (const e of await db.repos.jobs.listEvents(jobId))
      if (RECORDED_TYPES.has(e.type) && e.detail.attempt === attempt && typeof e.detail.seq === 'number')
        watermark = Math.max(watermark, e.detail.seq);
    return new AttemptRecorder(sink, jobId, attempt, intervalMs, watermark);
  }

  async observe(event: RuntimeEvent): Promise<void> {
    if (this.abandoned) return;
    this.seq += 1;
    const fresh = this.seq > this.watermark;
    switch (event.type) {
      case 'started':
        this.runtimeVersion = event.runtime_version;
        break;
      case 'progress':
        this.step = event.step;
        this.totalSteps = event.total_steps;
        if (fresh)
          this.progress = {
            step: event.step,
            totalSteps: event.total_steps,
            epoch: event.epoch,
            seq: this.seq,
          };
        break;
      case 'metric':
        this.step = Math.max(this.step ?? 0, event.step);
        if (fresh) {
          this.points.push({ step: event.step, values: event.values, ts: event.ts });
          this.pointsSeq = this.seq;
        }
        break;
      case 'checkpoint':
        this.lastCheckpoint = { step: event.step, path: event.path };
        if (fresh) {
          this.enqueuePending();
          this.push('checkpoint', { step: event.step, path: event.path });
          await this.flush();
        }
        break;
      case 'artifact':
        if (event.kind === 'model') this.modelPath = event.path;
        if (fresh) {
          this.enqueuePending();
          this.push('artifact', { kind: event.kind, path: event.path, format: event.format });
          await this.flush();
        }
        break;
      default:
        break;
    }
    if (Date.now() - this.lastFlush >= this.intervalMs) {
      this.enqueuePending();
      await this.flush();
    }
  }

  /**
   * Stops recording without writing what is pending (the supervision ended without a close: detached,
   * cancelled, failed) and waits for a write already under way, so that whoever re-attaches next reads every
   * event this recorder stored and replays the rest — none twice.
   */
  async abandon(): Promise<void> {
    this.abandoned = true;
    await this.inflight;
  }

  /** Writes everything still pending; throws when the database cannot take it (the activity retries). */
  async close(): Promise<void> {
    this.enqueuePending();
    await this.flush();
    if (this.queue.length > 0)
      throw new Error(`could not record ${this.queue.length} event(s) of job ${this.jobId}`);
  }

  private push(type: string, detail: Record<string, unknown>, seq = this.seq): void {
    this.queue.push({
      jobId: this.jobId,
      type,
      actor: WORKER_ACTOR,
      detail: { attempt: this.attempt, seq, ...detail },
    });
  }

  /** Metrics before progress when the progress is newer, so a crash between the two loses nothing. */
  private enqueuePending(): void {
    const progress = this.progress;
    const metrics = this.points.length > 0 ? { points: this.points, seq: this.pointsSeq } : null;
    this.progress = null;
    this.points = [];
    const writeProgress = () =>
      progress &&
      this.push(
        'progress',
        { step: progress.step, totalSteps: progress.totalSteps, epoch: progress.epoch },
        progress.seq,
      );
    const writeMetrics = () => metrics && this.push('metrics', { points: metrics.points }, metrics.seq);
    if (progress && metrics && progress.seq < metrics.seq) {
      writeProgress();
      writeMetrics();
    } else {
      writeMetrics();
      writeProgress();
    }
  }

  /** Everything queued in one write (all or none); on failure the queue stays for the next flush. */
  private flush(): Promise<void> {
    const write = this.write();
    this.inflight = write;
    return write;
  }

  private async write(): Promise<void> {
    this.lastFlush = Date.now();
    if (this.abandoned) return;
    if (this.queue.length === 0) return;
    const batch = this.queue.slice();
    try {
      await this.sink.append(batch);
    } catch {
      return;
    }
    this.queue.splice(0, batch.length);
  }
}
