import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { parseRuntimeEvent } from '@llmops/spec';
import type { ExecutionObserver, ExecutionOutcome } from './executor.ts';
import type { AttemptPaths, RunRecord } from './attempt-files.ts';
import { exists, readExitRecord, writeRecord } from './attempt-files.ts';
import { LineFollower } from './line-follower.ts';
import {
  decideOutcome,
  describeEvent,
  emptySummary,
  foldEvent,
  foldInvalid,
  foldStderr,
  type ExitRecord,
} from './outcome.ts';
import { isAlive, pidReused, signalGroup } from './process-probe.ts';

/**
 * At most one read of appended output per window. A runtime writes a few lines per step; reading at most
 * twice a second instead of at every write keeps hundreds of supervised runs cheap (a stat, a read and a
 * log write per pass), and nothing downstream needs it sooner: progress is recorded every few seconds.
 * Output after a quiet spell is read at once.
 */
const WRITE_COALESCE_MS = 500;

/**
 * Supervises one attempt from the start of its files: replays and then follows events.jsonl and stderr.log
 * into the observer and the combined log, notices the end of the process (wrapper record, our child's exit, or
 * the process vanishing) and settles `done` with the outcome once every line has been delivered.
 * Wake-ups come from a watcher on the attempt dir, the child's exit, and the executor's shared timer.
 */
export class AttemptFollower {
  readonly done: Promise<ExecutionOutcome>;
  private resolve!: (o: ExecutionOutcome) => void;
  private reject!: (e: unknown) => void;
  private readonly summary = emptySummary();
  private readonly stdout: LineFollower;
  private readonly stderr: LineFollower;
  private log: number | null = null;
  private logLines: string[] = [];
  private watcher: FSWatcher | null = null;
  private busy = false;
  private again = false;
  private endCheckWanted = false;
  private scheduled: NodeJS.Timeout | null = null;
  private lastPassAt = 0;
  private settled = false;
  private childExited = false;
  private readonly ownChild: boolean;

  constructor(
    readonly paths: AttemptPaths,
    readonly record: RunRecord,
    private readonly observer: ExecutionObserver,
    child: ChildProcess | null,
  ) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // A detach can come before anyone awaits `done`; that must not count as an unhandled rejection.
    this.done.catch(() => {});
    this.ownChild = child !== null;
    this.stdout = new LineFollower(paths.events, (line) => this.onStdout(line));
    this.stderr = new LineFollower(paths.stderr, (line) => this.onStderr(line));
    child?.once('exit', () => {
      this.childExited = true;
      this.wake(true, 0);
    });
  }

  /** Last write of the runtime to its stdout (ms since the epoch), for hang detection by the caller. */
  get lastEventAt(): number | null {
    return this.stdout.lastWriteAt;
  }

  async start(): Promise<void> {
    // The combined log is derived from the two files, so a re-attach rebuilds it from the start.
    this.log = openSync(this.paths.log, 'w');
    try {
      this.watcher = watch(this.paths.dir, (_event, name) => this.onDirChange(name));
      this.watcher.on('error', () => this.closeWatcher());
      this.watcher.unref();
    } catch {
      // Out of inotify watches, or a file system without notifications: the shared timer still wakes us.
      this.watcher = null;
    }
    this.wake(true, 0);
  }

  /**
   * The executor's periodic wake-up: reads what a notification may have missed and checks whether the
   * process ended. The check is skipped for our own child while the watcher works: its exit and the
   * wrapper's exit.json wake us anyway, and a probe per run per second is what hundreds of runs cannot
   * afford. A re-attached process (not our child) is probed on every tick.
   */
  tick(): void {
    this.wake(!this.ownChild || this.watcher === null, 0);
  }

  private onDirChange(name: string | null): void {
    const file = name === null ? null : basename(name);
    if (file === null || file === 'exit.json') this.wake(true, 0);
    else if (file === 'events.jsonl' || file === 'stderr.log') this.wake(false, this.coalesceDelay());
  }

  /** Output is read at once when the last pass is older than the window, else when the window closes. */
  private coalesceDelay(): number {
    return Math.max(1, this.lastPassAt + WRITE_COALESCE_MS - Date.now());
  }

  /**
   * Schedules one pass. Wake-ups for appended output are coalesced (a runtime writes several times per step);
   * checking whether the process ended is left to the timer, the child's exit and the appearance of exit.json.
   */
  private wake(checkEnd: boolean, delayMs: number): void {
    if (this.settled) return;
    if (checkEnd) this.endCheckWanted = true;
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.scheduled !== null) {
      if (delayMs > 0) return;
      clearTimeout(this.scheduled);
    }
    this.scheduled = setTimeout(() => this.runPass(), delayMs);
  }

  private runPass(): void {
    this.scheduled = null;
    this.lastPassAt = Date.now();
    this.busy = true;
    const checkEnd = this.endCheckWanted;
    this.endCheckWanted = false;
    void this.pass(checkEnd)
      .catch((e: unknown) => this.detach(e))
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.wake(false, this.endCheckWanted ? 0 : this.coalesceDelay());
        }
      });
  }

  /** Stops following without touching the process (worker shutdown, observer failure, superseded). */
  detach(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    void this.release().finally(() => this.reject(reason));
  }

  private async pass(checkEnd: boolean): Promise<void> {
    await this.pumpAll(false);
    if (!checkEnd || this.settled) return;
    const exit = await this.endOfProcess();
    if (exit === null || this.settled) return;
    await this.pumpAll(true);
    const cancelled = await exists(this.paths.cancel);
    const outcome = decideOutcome(exit.recordedBy === 'wrapper' ? exit : null, this.summary, cancelled);
    if (this.settled) return;
    await writeRecord(this.paths.outcome, outcome);
    this.settled = true;
    await this.release();
    this.resolve(outcome);
  }

  /** The exit record once the process has ended; null while it runs. */
  private async endOfProcess(): Promise<ExitRecord | null> {
    const recorded = await readExitRecord(this.paths);
    if (recorded) return recorded;
    const { pid, startTime } = this.record;
    if (!this.childExited && isAlive(pid, startTime)) return null;
    // The wrapper writes its record before it exits: look again now that it is gone.
    const late = await readExitRecord(this.paths);
    if (late) return late;
    // The wrapper was killed without recording anything. What it started must not run on unsupervised.
    if (!pidReused(pid, startTime)) signalGroup(pid, 'SIGKILL');
    const lost: ExitRecord = {
      exitCode: null,
      signal: null,
      finishedAt: new Date().toISOString(),
      recordedBy: 'supervisor',
    };
    await writeRecord(this.paths.exit, lost);
    return lost;
  }

  private async pumpAll(final: boolean): Promise<void> {
    await this.stdout.pump(final);
    await this.stderr.pump(final);
    // Written synchronously, as the follower reads: one small append per pass.
    if (this.logLines.length > 0 && this.log !== null) {
      const text = this.logLines.join('\n') + '\n';
      this.logLines = [];
      writeSync(this.log, text);
    }
  }

  private async onStdout(line: string): Promise<void> {
    const parsed = parseRuntimeEvent(line);
    if (parsed === null) {
      this.logLines.push(line);
      this.observer.onLog(line, 'stdout');
    } else if ('invalid' in parsed) {
      foldInvalid(this.summary, `${parsed.invalid} in ${truncate(line)}`);
      const shown = `[invalid event: ${parsed.invalid}] ${line}`;
      this.logLines.push(shown);
      this.observer.onLog(shown, 'stdout');
    } else {
      foldEvent(this.summary, parsed);
      this.logLines.push(describeEvent(parsed));
      await this.observer.onEvent(parsed);
    }
  }

  private onStderr(line: string): void {
    foldStderr(this.summary, line);
    this.logLines.push(`[stderr] ${line}`);
    this.observer.onLog(line, 'stderr');
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private async release(): Promise<void> {
    if (this.scheduled !== null) clearTimeout(this.scheduled);
    this.scheduled = null;
    this.closeWatcher();
    const log = this.log;
    this.log = null;
    if (log !== null)
      try {
        closeSync(log);
      } catch {
        // Already closed: nothing to release.
      }
    await Promise.allSettled([this.stdout.close(), this.stderr.close()]);
  }
}

const truncate = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);
