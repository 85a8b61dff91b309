import { describe, expect, it } from 'vitest';
import { ApiError, type JobLogs, type JobLogStreamEvent, type TrainingJob } from '@llmops/client';
import {
  EXIT_INTERRUPTED,
  followLogs,
  LogFollower,
  progressOf,
  watchJob,
  watchLine,
  type FollowDeps,
  type WatchDeps,
} from './follow.ts';

const log = (attempt: number, line: string): JobLogStreamEvent => ({ event: 'log', data: { attempt, line } });
const status = (s: string): JobLogStreamEvent => ({ event: 'status', data: { status: s as never } });
const end = (s: string): JobLogStreamEvent => ({ event: 'end', data: { status: s as never } });
const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

/** Feeds lines of one attempt through a follower and returns the ones it lets through. */
function printed(f: LogFollower, attempt: number, stream: string[]): string[] {
  return stream.filter((l) => f.accept(attempt, l));
}

describe('LogFollower', () => {
  it('prints everything when no tail was shown', () => {
    expect(printed(new LogFollower({ attempt: null, lines: [] }), 1, ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('skips the replayed log up to the end of the tail that is already on screen', () => {
    const f = new LogFollower({ attempt: 1, lines: lines(8, 10) });
    expect(printed(f, 1, lines(1, 12))).toEqual(['line 11', 'line 12']);
  });

  it('finds the tail where a naive restart would miss it', () => {
    const f = new LogFollower({ attempt: 1, lines: ['a', 'a', 'b', 'z'] });
    expect(printed(f, 1, ['a', 'a', 'a', 'b', 'z', 'c'])).toEqual(['c']);
    const g = new LogFollower({ attempt: 1, lines: ['a', 'a', 'b'] });
    expect(printed(g, 1, ['a', 'a', 'a', 'b', 'c'])).toEqual(['c']);
  });

  it('keeps looking when the lines before the tail’s last one repeat earlier in the log', () => {
    const f = new LogFollower({ attempt: 1, lines: ['a', 'b', 'c'] });
    expect(printed(f, 1, ['a', 'b', 'x', 'a', 'b', 'c', 'd'])).toEqual(['d']);
  });

  it('would rather print a line twice than lose one when the tail repeats', () => {
    // The file was x a b y a b when the tail [a, b] was read; the earliest match is after "x a b".
    const f = new LogFollower({ attempt: 1, lines: ['a', 'b'] });
    const out = printed(f, 1, ['x', 'a', 'b', 'y', 'a', 'b', 'new']);
    expect(out.at(-1)).toBe('new');
    expect(out).toEqual(['y', 'a', 'b', 'new']);
  });

  it('prints the completed version of a last line that was read while being written', () => {
    const f = new LogFollower({ attempt: 1, lines: ['line 1', '[metric] step 5 lo'] });
    expect(printed(f, 1, ['line 1', '[metric] step 5 loss=2.5', 'line 3'])).toEqual([
      '[metric] step 5 loss=2.5',
      'line 3',
    ]);
    const one = new LogFollower({ attempt: 1, lines: ['b'] });
    expect(printed(one, 1, ['a', 'b', 'c'])).toEqual(['c']);
  });

  it('after a reconnect skips exactly the lines the earlier connection delivered', () => {
    const f = new LogFollower({ attempt: 1, lines: lines(8, 10) });
    expect(printed(f, 1, lines(1, 12))).toEqual(['line 11', 'line 12']);
    f.reconnected();
    expect(printed(f, 1, [...lines(1, 12), 'line 12', 'line 13'])).toEqual(['line 12', 'line 13']);
  });

  it('prints every line of a newer attempt, even lines equal to the tail', () => {
    const f = new LogFollower({ attempt: 1, lines: ['same'] });
    expect(printed(f, 2, ['same', 'next'])).toEqual(['same', 'next']);
  });
});

describe('progressOf and watchLine', () => {
  it.each([
    ['[progress] step 12/100 epoch 0', { step: 12, totalSteps: 100 }],
    ['[metric] step 12 loss=1.23456789 learning_rate=0.0001', { step: 12, loss: '1.235' }],
    ['[metric] step 13 eval_loss=0.9', { step: 13 }],
    ['Step: 7 | loss: 2.5e-3', { step: 7, loss: '0.0025' }],
    ['[result] succeeded at step 100 loss=NaN', { step: 100, loss: 'nan' }],
    ['downloading weights', {}],
  ])('%s', (line, expected) => expect(progressOf(line)).toEqual(expected));

  it('shows the queue only while QUEUED, and the step and loss when known', () => {
    const base = { attempt: null, step: null, totalSteps: null, loss: null, problem: null };
    expect(
      watchLine({
        ...base,
        status: 'QUEUED',
        queue: { position: 3, estimatedStart: '2030-01-01T00:00:00.000Z' },
      }),
    ).toBe('QUEUED · queue position 3, est. start 2030-01-01 00:00:00Z');
    expect(
      watchLine({
        ...base,
        status: 'RUNNING',
        queue: { position: 3, estimatedStart: null },
        attempt: 2,
        step: 120,
        totalSteps: 1000,
        loss: '1.5',
      }),
    ).toBe('RUNNING · attempt 2 · step 120/1000 · loss 1.5');
  });
});

/** A stream the test feeds event by event; it ends, breaks or waits as told. */
function channel() {
  const queue: (JobLogStreamEvent | 'close' | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (x: JobLogStreamEvent | 'close' | Error) => {
    queue.push(x);
    wake?.();
  };
  async function* iterate(signal?: AbortSignal): AsyncGenerator<JobLogStreamEvent> {
    for (;;) {
      while (queue.length === 0) {
        if (signal?.aborted) return;
        await new Promise<void>((r) => {
          wake = r;
          signal?.addEventListener('abort', () => r(), { once: true });
        });
      }
      const x = queue.shift()!;
      if (x === 'close') return;
      if (x instanceof Error) throw x;
      yield x;
    }
  }
  return { push, iterate };
}

const lost = () =>
  new ApiError({ status: 0, code: 'UNAVAILABLE', message: 'The log stream broke off: terminated' });

function followDeps(tail: Partial<JobLogs>, streams: (JobLogStreamEvent | 'close' | Error)[][]) {
  const out: string[] = [];
  const notes: string[] = [];
  let opened = 0;
  const ctrl = new AbortController();
  const deps: FollowDeps = {
    jobs: {
      logs: async () =>
        ({ jobId: 'j1', status: 'RUNNING', attempt: 1, attempts: [1], lines: [], ...tail }) as JobLogs,
      streamLogs: (_id, o) => {
        const c = channel();
        for (const x of streams[opened++] ?? []) c.push(x);
        return c.iterate(o?.signal);
      },
    },
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
    signal: ctrl.signal,
    reconnectDelayMs: 0,
  };
  return { deps, out, notes, ctrl, opened: () => opened };
}

describe('followLogs', () => {
  it('prints the tail, then only new lines; status changes go to the notes; SUCCEEDED exits 0', async () => {
    const t = followDeps({ lines: lines(2, 3) }, [
      [
        { event: 'attempt', data: { attempt: 1 } },
        ...lines(1, 4).map((l) => log(1, l)),
        status('RUNNING'),
        status('SUCCEEDED'),
        end('SUCCEEDED'),
      ],
    ]);
    expect(await followLogs(t.deps, 'j1', 2)).toBe(0);
    expect(t.out.join('')).toBe('line 2\nline 3\nline 4\n');
    expect(t.notes).toEqual(['status: SUCCEEDED\n']);
  });

  it('exits 1 when the job FAILED or was CANCELLED', async () => {
    for (const s of ['FAILED', 'CANCELLED']) {
      const t = followDeps({}, [[status(s), end(s)]]);
      expect(await followLogs(t.deps, 'j1', undefined)).toBe(1);
    }
  });

  it('does not open the stream for a job that has already ended', async () => {
    const t = followDeps({ status: 'FAILED', lines: ['boom'] }, []);
    expect(await followLogs(t.deps, 'j1', undefined)).toBe(1);
    expect(t.out).toEqual(['boom\n']);
    expect(t.opened()).toBe(0);
  });

  it('reconnects once when the stream ends without `end`, without printing the replay again', async () => {
    const t = followDeps({ lines: ['line 1'] }, [
      [log(1, 'line 1'), log(1, 'line 2'), 'close'],
      [log(1, 'line 1'), log(1, 'line 2'), log(1, 'line 3'), end('SUCCEEDED')],
    ]);
    expect(await followLogs(t.deps, 'j1', undefined)).toBe(0);
    expect(t.out.join('')).toBe('line 1\nline 2\nline 3\n');
    expect(t.opened()).toBe(2);
  });

  it('notes a new attempt and prints its log from the start', async () => {
    const t = followDeps({ lines: ['a'] }, [
      [{ event: 'attempt', data: { attempt: 2 } }, log(2, 'a'), log(2, 'b'), end('SUCCEEDED')],
    ]);
    expect(await followLogs(t.deps, 'j1', undefined)).toBe(0);
    expect(t.out.join('')).toBe('a\na\nb\n');
    expect(t.notes[0]).toBe('attempt 2 started\n');
  });

  it('gives up when the stream drops again right after the reconnect', async () => {
    const t = followDeps({}, [[lost()], ['close']]);
    await expect(followLogs(t.deps, 'j1', undefined)).rejects.toThrow(/ended twice before the job did/);
    const t2 = followDeps({}, [['close'], [lost()]]);
    await expect(followLogs(t2.deps, 'j1', undefined)).rejects.toThrow(
      'The log stream broke off: terminated',
    );
    expect(t2.opened()).toBe(2);
  });

  it('does not retry a refusal', async () => {
    const t = followDeps({}, [[new ApiError({ status: 403, code: 'FORBIDDEN', message: 'no' })]]);
    await expect(followLogs(t.deps, 'j1', undefined)).rejects.toThrow('no');
    expect(t.opened()).toBe(1);
  });

  it('stops cleanly with 130 when interrupted', async () => {
    const t = followDeps({}, [[log(1, 'x')]]);
    const p = followLogs(t.deps, 'j1', undefined);
    await new Promise((r) => setTimeout(r, 10));
    t.ctrl.abort();
    expect(await p).toBe(EXIT_INTERRUPTED);
    expect(t.out).toEqual(['x\n']);
  });
});

function watchDeps(jobs: Partial<TrainingJob>[], tty: boolean) {
  let written = '';
  const c = channel();
  const ctrl = new AbortController();
  let gets = 0;
  const deps: WatchDeps = {
    jobs: {
      get: async () => {
        const j = jobs[Math.min(gets++, jobs.length - 1)]!;
        if (j instanceof Error) throw j;
        return { id: 'j1', queue: null, ...j } as TrainingJob;
      },
      streamLogs: (_id, o) => c.iterate(o?.signal),
    },
    stdout: { write: (s: string) => (written += s), isTTY: tty, columns: 30 },
    signal: ctrl.signal,
    intervalMs: 10,
    now: () => new Date('2030-01-01T12:00:00.000Z'),
  };
  return { deps, c, ctrl, written: () => written };
}

describe('watchJob', () => {
  it('prints each change once as a plain line when stdout is not a terminal, and exits by the outcome', async () => {
    const queued = { status: 'QUEUED' as const, queue: { position: 2, estimatedStart: null } };
    const t = watchDeps([queued, queued, { status: 'RUNNING' }], false);
    const p = watchJob(t.deps, 'j1');
    await new Promise((r) => setTimeout(r, 60));
    t.c.push({ event: 'attempt', data: { attempt: 1 } });
    t.c.push(log(1, '[metric] step 5 loss=2.25'));
    await new Promise((r) => setTimeout(r, 40));
    t.c.push(status('FAILED'));
    t.c.push(end('FAILED'));
    expect(await p).toBe(1);
    expect(t.written().split('\n').filter(Boolean)).toEqual([
      '2030-01-01 12:00:00Z  QUEUED · queue position 2',
      '2030-01-01 12:00:00Z  RUNNING',
      '2030-01-01 12:00:00Z  RUNNING · attempt 1 · step 5 · loss 2.25',
      '2030-01-01 12:00:00Z  FAILED · attempt 1 · step 5 · loss 2.25',
    ]);
  });

  it('rewrites one line on a terminal, cut to its width, and ends it with a newline', async () => {
    const t = watchDeps([{ status: 'RUNNING' }, { status: 'SUCCEEDED' }], true);
    t.c.push(log(1, '[progress] step 123456789/987654321 epoch 0'));
    expect(await watchJob(t.deps, 'j1')).toBe(0);
    const out = t.written();
    expect(out.startsWith('\r\x1b[2KRUNNING')).toBe(true);
    expect(out.endsWith('\r\x1b[2KSUCCEEDED · step 123456789/98\n')).toBe(true);
    for (const frame of out.split('\r\x1b[2K')) expect(frame.trimEnd().length).toBeLessThan(30);
  });

  it('keeps watching through a lost connection and stops with 130 when interrupted', async () => {
    const t = watchDeps(
      [{ status: 'RUNNING' }, new ApiError({ status: 0, code: 'UNAVAILABLE', message: 'x' }) as never],
      false,
    );
    const p = watchJob(t.deps, 'j1');
    await new Promise((r) => setTimeout(r, 50));
    t.ctrl.abort();
    expect(await p).toBe(EXIT_INTERRUPTED);
    expect(t.written()).toContain('RUNNING · platform unreachable, retrying');
  });
});
