import { open, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TERMINAL_STATES } from '@llmops/core';

interface StreamTarget {
  latestLog(): Promise<{ attempt: number; path: string } | null>;
  status(): Promise<string>;
}

const POLL_MS = 500;
/** Streams end on their own after this long; clients reconnect (EventSource does so by itself). */
const MAX_STREAM_MS = 30 * 60 * 1000;

/**
 * Follows the newest attempt's log and the job's status and sends them as Server-Sent Events:
 * `log` (one line), `status` (on change) and `end` (terminal state). Polling keeps it to one timer per
 * client instead of a file watcher each.
 */
export async function streamJobLogs(
  req: IncomingMessage,
  res: ServerResponse,
  target: StreamTarget,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let closed = false;
  req.on('close', () => {
    closed = true;
  });
  let attempt: number | null = null;
  let offset = 0;
  let partial = '';
  let lastStatus = '';
  const started = Date.now();
  while (!closed && Date.now() - started < MAX_STREAM_MS) {
    const log = await target.latestLog();
    if (log && log.attempt !== attempt) {
      attempt = log.attempt;
      offset = 0;
      partial = '';
      send('attempt', { attempt });
    }
    if (log) {
      const size = await stat(log.path).then(
        (s) => s.size,
        () => 0,
      );
      if (size > offset) {
        const fh = await open(log.path, 'r');
        try {
          const buf = Buffer.alloc(Math.min(size - offset, 1024 * 1024));
          const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
          offset += bytesRead;
          const text = partial + buf.subarray(0, bytesRead).toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (line) send('log', { attempt, line });
        } finally {
          await fh.close();
        }
      }
    }
    const status = await target.status();
    if (status !== lastStatus) {
      lastStatus = status;
      send('status', { status });
    }
    if (TERMINAL_STATES.has(status)) {
      send('end', { status });
      break;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  res.end();
}
