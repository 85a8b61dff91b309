import { isApiError, type Client, type JobLogs, type QueuePosition, type TrainingJob } from '@llmops/client';
import type { OutStream } from '../context.ts';
import { time } from '../output.ts';

/** The exit code of a command stopped with Ctrl-C, as a shell reports it (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
export const isTerminal = (status: string) => TERMINAL.has(status);
/** 0 when the job SUCCEEDED, 1 when it FAILED or was CANCELLED. */
export const exitCodeFor = (status: string) => (status === 'SUCCEEDED' ? 0 : 1);

/** A stream that stayed open this long was healthy; its end (the server's time limit) earns a new retry. */
const HEALTHY_STREAM_MS = 60_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function failureTable(p: readonly string[]): number[] {
  const f = new Array<number>(p.length).fill(0);
  for (let i = 1, k = 0; i < p.length; i++) {
    while (k > 0 && p[i] !== p[k]) k = f[k - 1]!;
    if (p[i] === p[k]) k++;
    f[i] = k;
  }
  return f;
}

/**
 * Decides which streamed log lines to print. Every connection to the stream replays the newest
 * attempt's log from its first line, so the follower skips what is already on screen: the tail printed
 * before the stream opened, found by matching its lines (the earliest match wins: a line shown twice
 * is better than a line lost), and after a reconnect the lines earlier connections delivered, counted.
 * The tail's last line may have been read while it was still being written; its completed version is
 * printed.
 */
export class LogFollower {
  private readonly delivered = new Map<number, number>();
  private connection = new Map<number, number>();
  private readonly tailAttempt: number | null;
  private readonly pattern: string[];
  private readonly last: string | undefined;
  private readonly fail: number[];
  private matched = 0;
  private phase: 'pattern' | 'last' | 'done';

  constructor(tail: Pick<JobLogs, 'attempt' | 'lines'>) {
    this.tailAttempt = tail.attempt;
    this.pattern = tail.lines.slice(0, -1);
    this.last = tail.lines.at(-1);
    this.fail = failureTable(this.pattern);
    this.phase =
      tail.attempt === null || this.last === undefined ? 'done' : this.pattern.length ? 'pattern' : 'last';
  }

  /** A new connection, which starts again at the first line of the newest attempt. */
  reconnected(): void {
    this.connection = new Map();
  }

  /** Whether this streamed line is new to the reader. */
  accept(attempt: number, line: string): boolean {
    const n = (this.connection.get(attempt) ?? 0) + 1;
    this.connection.set(attempt, n);
    if (n <= (this.delivered.get(attempt) ?? 0)) return false;
    this.delivered.set(attempt, n);
    if (attempt !== this.tailAttempt || this.phase === 'done') return true;
    return this.align(line);
  }

  private align(line: string): boolean {
    const last = this.last!;
    if (this.phase === 'last') {
      if (line === last || line.startsWith(last)) {
        this.phase = 'done';
        return line !== last;
      }
      if (this.pattern.length === 0) return false;
      // The lines matched so far also occur earlier in the log: keep looking (KMP, past a full match).
      this.phase = 'pattern';
      this.matched = this.fail[this.matched - 1]!;
    }
    while (this.matched > 0 && this.pattern[this.matched] !== line)
      this.matched = this.fail[this.matched - 1]!;
    if (this.pattern[this.matched] === line) this.matched++;
    if (this.matched === this.pattern.length) this.phase = 'last';
    return false;
  }
}

export interface FollowDeps {
  jobs: Pick<Client['jobs'], 'logs' | 'streamLogs'>;
  out(text: string): void;
  note(text: string): void;
  signal: AbortSignal;
  now?: () => number;
  reconnectDelayMs?: number;
}

/**
 * `jobs logs -f`: the tail, then new lines until the job ends; status changes go to `note`. Resolves to
 * the exit code: 0 SUCCEEDED, 1 FAILED or CANCELLED, 130 interrupted. A stream that ends without `end`
 * is opened again once; a second one that ends within a minute is an error.
 */
export async function followLogs(d: FollowDeps, id: string, tail: number | undefined): Promise<number> {
  const now = d.now ?? Date.now;
  const logs = await d.jobs.logs(id, { tail });
  for (const line of logs.lines) d.out(`${line}\n`);
  let status: string = logs.status;
  if (isTerminal(status)) return exitCodeFor(status);
  const follower = new LogFollower(logs);
  let attempt = logs.attempt;
  let quickDrops = 0;
  for (;;) {
    const opened = now();
    let ended: string | undefined;
    let failure: unknown;
    try {
      for await (const ev of d.jobs.streamLogs(id, { signal: d.signal })) {
        if (ev.event === 'attempt') {
          if (attempt !== null && ev.data.attempt !== attempt) d.note(`attempt ${ev.data.attempt} started\n`);
          attempt = ev.data.attempt;
        } else if (ev.event === 'log') {
          if (follower.accept(ev.data.attempt, ev.data.line)) d.out(`${ev.data.line}\n`);
        } else {
          if (ev.data.status !== status) d.note(`status: ${ev.data.status}\n`);
          status = ev.data.status;
          if (ev.event === 'end') {
            ended = ev.data.status;
            break;
          }
        }
      }
    } catch (e) {
      // Only a lost connection is worth another try; a refusal (401, 404, …) would be refused again.
      if (!isApiError(e) || e.status !== 0) throw e;
      failure = e;
    }
    if (d.signal.aborted) return EXIT_INTERRUPTED;
    if (ended !== undefined) return exitCodeFor(ended);
    quickDrops = now() - opened >= HEALTHY_STREAM_MS ? 1 : quickDrops + 1;
    if (quickDrops > 1)
      throw failure ?? new Error(`The log stream of job ${id} ended twice before the job did; try again`);
    await sleep(d.reconnectDelayMs ?? 1000, d.signal);
    if (d.signal.aborted) return EXIT_INTERRUPTED;
    follower.reconnected();
  }
}

export interface Progress {
  step?: number;
  totalSteps?: number;
  loss?: string;
}

const STEP = /\bstep[ =:]+(\d+)(?:\s*\/\s*(\d+))?/i;
const LOSS = /\bloss[ =:]+([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|inf)\b/i;

/** Step and training loss as a log line shows them (`[progress] step 12/100`, `[metric] step 12 loss=1.5`). */
export function progressOf(line: string): Progress {
  const p: Progress = {};
  const step = STEP.exec(line);
  if (step) {
    p.step = Number(step[1]);
    if (step[2] !== undefined) p.totalSteps = Number(step[2]);
  }
  const loss = LOSS.exec(line)?.[1];
  if (loss !== undefined) {
    const n = Number(loss);
    p.loss = Number.isFinite(n) ? String(Number(n.toPrecision(4))) : loss.toLowerCase();
  }
  return p;
}

export interface WatchState {
  status: string;
  queue: QueuePosition | null;
  attempt: number | null;
  step: number | null;
  totalSteps: number | null;
  loss: string | null;
  problem: string | null;
}

export function queueText(q: QueuePosition): string {
  const at = q.position === null ? 'queue position unknown' : `queue position ${q.position}`;
  return q.estimatedStart ? `${at}, est. start ${time(q.estimatedStart)}` : at;
}

/** The one line of `jobs watch`: `RUNNING · attempt 1 · step 120/1000 · loss 1.234`. */
export function watchLine(s: WatchState): string {
  const parts = [s.status];
  if (s.status === 'QUEUED' && s.queue) parts.push(queueText(s.queue));
  if (s.attempt !== null) parts.push(`attempt ${s.attempt}`);
  if (s.step !== null) parts.push(`step ${s.step}${s.totalSteps !== null ? `/${s.totalSteps}` : ''}`);
  if (s.loss !== null) parts.push(`loss ${s.loss}`);
  if (s.problem) parts.push(s.problem);
  return parts.join(' · ');
}

export interface WatchDeps {
  jobs: Pick<Client['jobs'], 'get' | 'streamLogs'>;
  stdout: OutStream;
  signal: AbortSignal;
  intervalMs: number;
  now?: () => Date;
}

/** Applies the stream's events to the view until the job ends; reconnects quietly, the stream is a bonus. */
async function trackEvents(d: WatchDeps, id: string, s: WatchState, signal: AbortSignal, wake: () => void) {
  while (!signal.aborted) {
    try {
      for await (const ev of d.jobs.streamLogs(id, { signal })) {
        if (ev.event === 'attempt') {
          if (ev.data.attempt !== s.attempt) Object.assign(s, { step: null, totalSteps: null, loss: null });
          s.attempt = ev.data.attempt;
        } else if (ev.event === 'log') {
          const p = progressOf(ev.data.line);
          if (p.step !== undefined) s.step = p.step;
          if (p.totalSteps !== undefined) s.totalSteps = p.totalSteps;
          if (p.loss !== undefined) s.loss = p.loss;
        } else if (!isTerminal(s.status)) {
          if (ev.data.status !== s.status) wake();
          s.status = ev.data.status;
          if (ev.event === 'end') return;
        }
      }
    } catch {
      // GET keeps the status current while the stream is away.
    }
    await sleep(Math.max(5 * d.intervalMs, 1000), signal);
  }
}

/**
 * `jobs watch`: one line that is rewritten in place on a terminal (plain lines, each change once,
 * otherwise), from GET of the job every interval and the live stream, until the job ends.
 */
export async function watchJob(d: WatchDeps, id: string): Promise<number> {
  const tty = d.stdout.isTTY === true;
  const s: WatchState = {
    status: '',
    queue: null,
    attempt: null,
    step: null,
    totalSteps: null,
    loss: null,
    problem: null,
  };
  const apply = (j: TrainingJob) => {
    // A GET that was under way when the stream said `end` must not bring the old state back.
    if (!isTerminal(s.status)) s.status = j.status;
    s.queue = j.queue ?? null;
    s.problem = null;
  };
  apply(await d.jobs.get(id));

  const stop = new AbortController();
  const signal = AbortSignal.any([d.signal, stop.signal]);
  let wake = () => {};
  const events = isTerminal(s.status) ? Promise.resolve() : trackEvents(d, id, s, signal, () => wake());
  let shown = '';
  const render = () => {
    const line = watchLine(s);
    if (tty) {
      const width = d.stdout.columns ?? 0;
      d.stdout.write(`\r\x1b[2K${width > 1 && line.length >= width ? line.slice(0, width - 1) : line}`);
    } else if (line !== shown) {
      d.stdout.write(`${time((d.now?.() ?? new Date()).toISOString())}  ${line}\n`);
    }
    shown = line;
  };
  try {
    for (;;) {
      render();
      if (isTerminal(s.status) || d.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, d.intervalMs);
        function done() {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
      if (d.signal.aborted) break;
      if (isTerminal(s.status)) continue;
      try {
        apply(await d.jobs.get(id));
      } catch (e) {
        if (!isApiError(e) || e.status !== 0) throw e;
        s.problem = 'platform unreachable, retrying';
      }
    }
  } finally {
    stop.abort();
    await events;
    if (tty && shown) d.stdout.write('\n');
  }
  return d.signal.aborted ? EXIT_INTERRUPTED : exitCodeFor(s.status);
}
