import { describe, expect, it } from 'vitest';
import { createClient, isApiError, type ApiError, type JobLogStreamEvent } from './index.ts';

interface Seen {
  url: URL;
  method: string;
  headers: Headers;
  body: string;
}

const job = { id: 'j/1', status: 'RUNNING' };
const envelope = (data: unknown, message = 'OK') => JSON.stringify({ status: 'success', message, data });

/** Answers every request with the same JSON envelope and records what was asked. */
function jsonFetch(status: number, body: string) {
  const seen: Seen[] = [];
  const fetch = async (input: string | URL | Request, init: RequestInit = {}) => {
    const req = new Request(input, init);
    seen.push({ url: new URL(req.url), method: req.method, headers: req.headers, body: await req.text() });
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

interface StreamScript {
  /** Byte chunks of the body, in order; a number waits that many ms first. */
  chunks: (Uint8Array | string | number)[];
  /** Leave the body open after the last chunk (a live stream). */
  open?: boolean;
  /** Break the connection after the last chunk. */
  fail?: boolean;
  status?: number;
  contentType?: string;
}

/** A fetch whose answer is an event stream delivered chunk by chunk, as a server would. */
function streamFetch(script: StreamScript) {
  const seen: Seen[] = [];
  const state = { cancelled: false };
  const enc = new TextEncoder();
  const fetch = async (input: string | URL | Request, init: RequestInit = {}) => {
    const req = new Request(input, init);
    seen.push({ url: new URL(req.url), method: req.method, headers: req.headers, body: '' });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const c of script.chunks) {
          if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
          else if (!state.cancelled) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
        }
        if (state.cancelled) return;
        if (script.fail) controller.error(new TypeError('terminated'));
        else if (!script.open) controller.close();
      },
      cancel() {
        state.cancelled = true;
      },
    });
    return new Response(body, {
      status: script.status ?? 200,
      headers: { 'content-type': script.contentType ?? 'text/event-stream' },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, seen, state };
}

async function collect(it: AsyncIterable<JobLogStreamEvent>, max = Infinity): Promise<JobLogStreamEvent[]> {
  const out: JobLogStreamEvent[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (out.length >= max) break;
  }
  return out;
}

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('job controls', () => {
  it('posts cancel, pause and resume without a body to the job path and returns the job', async () => {
    const { fetch, seen } = jsonFetch(202, envelope(job, 'cancel requested'));
    const c = createClient({ baseUrl: 'http://h:1', token: 't', fetch });
    expect(await c.jobs.cancel('j/1')).toEqual(job);
    await c.jobs.pause('j/1');
    await c.jobs.resume('j/1');
    expect(seen.map((s) => `${s.method} ${s.url.pathname} ${s.body || '(no body)'}`)).toEqual([
      'POST /llm-ops/v1/training/jobs/j%2F1/cancel (no body)',
      'POST /llm-ops/v1/training/jobs/j%2F1/pause (no body)',
      'POST /llm-ops/v1/training/jobs/j%2F1/resume (no body)',
    ]);
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer t');
  });

  it('sends the retry checkpoint and the priority as JSON bodies', async () => {
    const { fetch, seen } = jsonFetch(202, envelope(job));
    const c = createClient({ baseUrl: 'http://h:1', fetch });
    await c.jobs.retry('j1', { fromCheckpoint: 'ckpt/step-100' });
    await c.jobs.retry('j1');
    await c.jobs.setPriority('j1', 90);
    expect(seen.map((s) => [s.method, s.url.pathname, s.body])).toEqual([
      ['POST', '/llm-ops/v1/training/jobs/j1/retry', '{"fromCheckpoint":"ckpt/step-100"}'],
      ['POST', '/llm-ops/v1/training/jobs/j1/retry', '{}'],
      ['PATCH', '/llm-ops/v1/training/jobs/j1/priority', '{"priority":90}'],
    ]);
    expect(seen[2]!.headers.get('content-type')).toBe('application/json');
  });

  it('asks for the log tail of an attempt with query parameters, leaving unset ones out', async () => {
    const logs = { jobId: 'j1', status: 'RUNNING', attempt: 2, attempts: [1, 2], lines: ['a'] };
    const { fetch, seen } = jsonFetch(200, envelope(logs));
    const c = createClient({ baseUrl: 'http://h:1', fetch });
    expect(await c.jobs.logs('j1', { attempt: 1, tail: 20 })).toEqual(logs);
    await c.jobs.logs('j1');
    expect(seen.map((s) => `${s.url.pathname}${s.url.search}`)).toEqual([
      '/llm-ops/v1/training/jobs/j1/logs?attempt=1&tail=20',
      '/llm-ops/v1/training/jobs/j1/logs',
    ]);
  });

  it('turns 503 from a platform without a workflow engine into UNAVAILABLE with its message', async () => {
    const { fetch } = jsonFetch(
      503,
      JSON.stringify({
        status: 'error',
        message: 'Job execution is not available: the workflow engine is not configured or not running',
        data: { code: 'UNAVAILABLE' },
      }),
    );
    const e = await caught(createClient({ baseUrl: 'http://h:1', fetch }).jobs.pause('j1'));
    expect(e).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(e.message).toMatch(/^Job execution is not available/);
  });
});

const SSE =
  'event: attempt\ndata: {"attempt":1}\n\n' +
  ': keep-alive\n\n' +
  'event: log\ndata: {"attempt":1,"line":"[metric] step 3 loss=1.5 — ünïcödé ✓"}\n\n' +
  'event: shiny-new-event\ndata: {"x":1}\n\n' +
  'event: status\ndata: {"status":"RUNNING"}\n\n' +
  'event: end\ndata: {"status":"SUCCEEDED"}\n\n';

const EVENTS: JobLogStreamEvent[] = [
  { event: 'attempt', data: { attempt: 1 } },
  { event: 'log', data: { attempt: 1, line: '[metric] step 3 loss=1.5 — ünïcödé ✓' } },
  { event: 'status', data: { status: 'RUNNING' } },
  { event: 'end', data: { status: 'SUCCEEDED' } },
];

describe('jobs.streamLogs', () => {
  it('yields the typed events, skipping comments and event types it does not know', async () => {
    const { fetch, seen } = streamFetch({ chunks: [SSE] });
    const c = createClient({ baseUrl: 'http://h:1', token: 't', project: 'p', fetch });
    expect(await collect(c.jobs.streamLogs('j/1'))).toEqual(EVENTS);
    expect(seen[0]!.url.pathname).toBe('/llm-ops/v1/training/jobs/j%2F1/logs/stream');
    expect(seen[0]!.headers.get('accept')).toBe('text/event-stream');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer t');
    expect(seen[0]!.headers.get('x-project')).toBe('p');
  });

  it('reads the same events when bytes arrive one at a time, splitting multi-byte characters and CRLFs', async () => {
    const bytes = new TextEncoder().encode('\uFEFF' + SSE.replaceAll('\n', '\r\n'));
    const { fetch } = streamFetch({ chunks: Array.from(bytes, (b) => Uint8Array.of(b)) });
    expect(await collect(createClient({ baseUrl: 'http://h:1', fetch }).jobs.streamLogs('j1'))).toEqual(
      EVENTS,
    );
  });

  it('gives events as they arrive, before the stream ends', async () => {
    const { fetch } = streamFetch({ chunks: ['event: attempt\ndata: {"attempt":4}\n\n'], open: true });
    const it = createClient({ baseUrl: 'http://h:1', fetch }).jobs.streamLogs('j1')[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: { event: 'attempt', data: { attempt: 4 } } });
    await it.return?.();
  });

  it('closes the connection when the caller stops early', async () => {
    const { fetch, state } = streamFetch({ chunks: [SSE], open: true });
    const got = await collect(createClient({ baseUrl: 'http://h:1', fetch }).jobs.streamLogs('j1'), 2);
    expect(got).toHaveLength(2);
    expect(state.cancelled).toBe(true);
  });

  it('ends quietly and closes the connection when the signal aborts, even mid-wait', async () => {
    const { fetch, state } = streamFetch({ chunks: ['event: attempt\ndata: {"attempt":1}\n\n'], open: true });
    const ctrl = new AbortController();
    const got: JobLogStreamEvent[] = [];
    const done = (async () => {
      for await (const ev of createClient({ baseUrl: 'http://h:1', fetch }).jobs.streamLogs('j1', {
        signal: ctrl.signal,
      }))
        got.push(ev);
    })();
    await new Promise((r) => setTimeout(r, 30));
    ctrl.abort();
    await done;
    expect(got).toEqual([{ event: 'attempt', data: { attempt: 1 } }]);
    expect(state.cancelled).toBe(true);
  });

  it('does not apply the request timeout to a stream that stays open', async () => {
    const { fetch } = streamFetch({ chunks: [60, SSE] });
    const c = createClient({ baseUrl: 'http://h:1', fetch, timeoutMs: 20 });
    expect(await collect(c.jobs.streamLogs('j1'))).toEqual(EVENTS);
  });

  it('throws UNAVAILABLE when the connection breaks off, after the events that arrived', async () => {
    const { fetch } = streamFetch({
      chunks: ['event: status\ndata: {"status":"RUNNING"}\n\n', 20],
      fail: true,
    });
    const got: JobLogStreamEvent[] = [];
    const e = await caught(
      (async () => {
        for await (const ev of createClient({ baseUrl: 'http://h:1', fetch }).jobs.streamLogs('j1'))
          got.push(ev);
      })(),
    );
    expect(got).toEqual([{ event: 'status', data: { status: 'RUNNING' } }]);
    expect(e).toMatchObject({ status: 0, code: 'UNAVAILABLE' });
    expect(e.message).toBe('The log stream of http://h:1 broke off: terminated');
  });

  it('throws the error envelope of a refused stream as an ApiError', async () => {
    const { fetch } = streamFetch({
      status: 404,
      contentType: 'application/json',
      chunks: [
        JSON.stringify({ status: 'error', message: 'Training job not found', data: { code: 'NOT_FOUND' } }),
      ],
    });
    const e = await caught(collect(createClient({ baseUrl: 'http://h:1', fetch }).jobs.streamLogs('j1')));
    expect(e).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'Training job not found' });
  });

  it('rejects an answer that is not an event stream, and an event whose data it cannot read', async () => {
    const html = streamFetch({ contentType: 'text/html', chunks: ['<html>login</html>'] });
    const e1 = await caught(
      collect(createClient({ baseUrl: 'http://h:1', fetch: html.fetch }).jobs.streamLogs('j1')),
    );
    expect(e1.code).toBe('INVALID_RESPONSE');
    expect(e1.message).toContain('answered 200 (text/html) with something other than an event stream');

    const bad = streamFetch({ chunks: ['event: log\ndata: {"attempt":1,"line":\n\n'] });
    const e2 = await caught(
      collect(createClient({ baseUrl: 'http://h:1', fetch: bad.fetch }).jobs.streamLogs('j1')),
    );
    expect(e2.code).toBe('INVALID_RESPONSE');
    expect(e2.message).toMatch(/sent a 'log' event the client cannot read/);
  });

  it('explains a refused connection like any other request', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof globalThis.fetch;
    const e = await caught(
      collect(createClient({ baseUrl: 'http://127.0.0.1:9', fetch }).jobs.streamLogs('j1')),
    );
    expect(e.message).toBe('Cannot reach the platform at http://127.0.0.1:9: is it running? (llmops up)');
  });
});
