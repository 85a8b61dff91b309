import { ApiError } from './errors.ts';
import type { Transport } from './http.ts';
import { createSseParser, type SseMessage } from './sse.ts';
import type { JobLogStreamEvent, StreamJobLogsOptions } from './types.ts';

const EVENTS = new Set<string>(['attempt', 'log', 'status', 'end']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The typed event of one SSE message, undefined for event types this client does not know (yet). */
function typed(m: SseMessage, url: string): JobLogStreamEvent | undefined {
  if (!EVENTS.has(m.event)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(m.data);
  } catch {
    data = undefined;
  }
  const ok =
    isRecord(data) &&
    (m.event === 'attempt'
      ? typeof data.attempt === 'number'
      : m.event === 'log'
        ? typeof data.attempt === 'number' && typeof data.line === 'string'
        : typeof data.status === 'string');
  if (!ok)
    throw new ApiError({
      status: 200,
      code: 'INVALID_RESPONSE',
      message: `${url} sent a '${m.event}' event the client cannot read: ${m.data.slice(0, 120)}`,
    });
  return { event: m.event, data } as JobLogStreamEvent;
}

/**
 * The live log of a job as typed events. It ends when the server closes the stream (after `end`, or
 * after the server's own time limit: then open it again) or when `signal` aborts — check
 * `signal.aborted` to tell which. A connection that breaks off throws an ApiError (UNAVAILABLE).
 */
export async function* streamJobLogs(
  transport: Transport,
  path: string,
  opts: StreamJobLogsOptions = {},
): AsyncGenerator<JobLogStreamEvent, void, undefined> {
  const { signal } = opts;
  if (signal?.aborted) return;
  let res: Response;
  try {
    res = await transport.openStream(path, { signal });
  } catch (e) {
    if (signal?.aborted) return;
    throw e;
  }
  const reader = res.body!.getReader();
  // Not every fetch ties the body to the signal; cancelling the reader ends a pending read either way.
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder();
  const pending: JobLogStreamEvent[] = [];
  const parser = createSseParser((m) => {
    const ev = typed(m, res.url || path);
    if (ev) pending.push(ev);
  });
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal?.aborted) return;
        throw new ApiError({
          status: 0,
          code: 'UNAVAILABLE',
          message: `The log stream of ${transport.baseUrl} broke off: ${e instanceof Error ? e.message : String(e)}`,
          cause: e,
        });
      }
      if (chunk.done) {
        parser.feed(decoder.decode());
      } else {
        parser.feed(decoder.decode(chunk.value, { stream: true }));
      }
      for (const ev of pending.splice(0)) {
        if (signal?.aborted) return;
        yield ev;
      }
      if (chunk.done || signal?.aborted) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Closes the connection when the caller stops early (break out of for-await, an exception).
    await reader.cancel().catch(() => undefined);
  }
}
