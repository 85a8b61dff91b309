import { describe, expect, it } from 'vitest';
import { createSseParser, type SseMessage } from './sse.ts';

function parse(...chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const p = createSseParser((m) => out.push(m));
  for (const c of chunks) p.feed(c);
  return out;
}

const STREAM =
  ': connected\n' +
  'event: attempt\ndata: {"attempt":1}\n\n' +
  'event: log\r\ndata: {"attempt":1,\r\ndata: "line":"step 1 loss=2.5"}\r\n\r\n' +
  'id: 7\revent: status\rdata: {"status":"RUNNING"}\r\r' +
  'data: plain\n\n';

const EXPECTED: SseMessage[] = [
  { event: 'attempt', data: '{"attempt":1}', id: undefined },
  { event: 'log', data: '{"attempt":1,\n"line":"step 1 loss=2.5"}', id: undefined },
  { event: 'status', data: '{"status":"RUNNING"}', id: '7' },
  { event: 'message', data: 'plain', id: '7' },
];

describe('createSseParser', () => {
  it('reads events, joins multi-line data with \\n and accepts LF, CRLF and CR line ends', () => {
    expect(parse(STREAM)).toEqual(EXPECTED);
  });

  it('gives the same events wherever the chunks are cut', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j += 7) {
        expect(parse(STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j))).toEqual(EXPECTED);
      }
    }
    expect(parse(...STREAM.split(''))).toEqual(EXPECTED);
  });

  it('treats a CR at the end of a chunk and an LF at the start of the next as one line end', () => {
    // Read as two line ends, the LF would be a blank line and dispatch "a" on its own.
    expect(parse('data: a\r', '\ndata: b\r\n\r\n')).toEqual([
      { event: 'message', data: 'a\nb', id: undefined },
    ]);
    // An empty chunk in between does not forget the CR.
    expect(parse('data: a\r', '', '\ndata: b\r', '\r')).toEqual([
      { event: 'message', data: 'a\nb', id: undefined },
    ]);
  });

  it('ignores comments, blocks without data and unknown fields, and strips only one leading space', () => {
    const got = parse(
      ':heartbeat\n\n',
      'event: log\n: a comment inside\nretry: 1000\nfoo: bar\n\n',
      'event: log\ndata:no-space\ndata:  two spaces\ndata\ndata:\n\n',
    );
    expect(got).toEqual([{ event: 'log', data: 'no-space\n two spaces\n\n', id: undefined }]);
  });

  it('resets the event type after each dispatch and keeps the last id; an id with NUL is ignored', () => {
    const got = parse('event: a\nid: 1\ndata: x\n\ndata: y\n\nid: 2\0\ndata: z\n\nid\ndata: w\n\n');
    expect(got.map((m) => [m.event, m.data, m.id])).toEqual([
      ['a', 'x', '1'],
      ['message', 'y', '1'],
      ['message', 'z', '1'],
      ['message', 'w', ''],
    ]);
  });

  it('does not dispatch a block the stream has not finished', () => {
    expect(parse('event: end\ndata: {"status":"FAILED"}\n')).toEqual([]);
    expect(parse('event: end\ndata: {"status":"FAILED"}')).toEqual([]);
  });

  it('keeps a long line whole when it arrives in many chunks', () => {
    const line = 'x'.repeat(50_000);
    const chunks = ['data: ', ...line.match(/.{1,100}/g)!, '\n\n'];
    expect(parse(...chunks)).toEqual([{ event: 'message', data: line, id: undefined }]);
  });
});
