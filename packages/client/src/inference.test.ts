import { describe, expect, it } from 'vitest';
import { createClient, isApiError, type ApiError, type ChatCompletionChunk } from './index.ts';

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent whole; an array is sent piece by piece, as a stream. */
  body: string | string[];
}

function clientAnswering(answer: Answer) {
  const seen: { url: string; body: any; accept: string | null }[] = [];
  const fetch = async (input: string | URL | Request, init: RequestInit = {}) => {
    const req = new Request(input, init);
    seen.push({ url: req.url, body: await req.json(), accept: req.headers.get('accept') });
    const body =
      typeof answer.body === 'string'
        ? answer.body
        : new ReadableStream<Uint8Array>({
            start(c) {
              for (const piece of answer.body) c.enqueue(new TextEncoder().encode(piece));
              c.close();
            },
          });
    return new Response(body, {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  };
  const client = createClient({
    baseUrl: 'http://127.0.0.1:9',
    token: 't',
    fetch: fetch as typeof globalThis.fetch,
  });
  return { client, seen };
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

async function collect(it: AsyncIterable<ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const c of it) text += c.choices[0]?.delta.content ?? '';
  return text;
}

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const messages = [{ role: 'user' as const, content: 'hi' }];

describe('inference.chat', () => {
  it('posts to the endpoint id or the route and returns the answer with the revision that gave it', async () => {
    const completion = {
      id: 'c',
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
    };
    const { client, seen } = clientAnswering({
      body: JSON.stringify(completion),
      headers: { 'x-llmops-revision': 'rev-1' },
    });
    const a = await client.inference.chat({ endpointId: 'e/1' }, { messages, max_tokens: 4 });
    expect(a).toEqual({ value: completion, revisionId: 'rev-1' });
    await client.inference.chat({ route: '/team/chat' }, { messages });
    expect(seen.map((s) => s.url)).toEqual([
      'http://127.0.0.1:9/llm-ops/v1/serving/endpoints/e%2F1/v1/chat/completions',
      'http://127.0.0.1:9/llm-ops/v1/serving/routes/team/chat/v1/chat/completions',
    ]);
    expect(seen[0]!.body).toEqual({ messages, max_tokens: 4, stream: false });
  });

  it('turns an OpenAI error into an ApiError with its code, type and Retry-After', async () => {
    const { client } = clientAnswering({
      status: 429,
      headers: { 'retry-after': '1' },
      body: JSON.stringify({
        error: { message: 'busy', type: 'rate_limit_error', code: 'too_many_concurrent_requests' },
      }),
    });
    const e = await caught(client.inference.chat({ endpointId: 'e' }, { messages }));
    expect(e).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      message: 'busy',
      details: { type: 'rate_limit_error', code: 'too_many_concurrent_requests', retryAfterSeconds: 1 },
    });
  });

  it("reads the platform's envelope (authentication, role) and an answer in neither form", async () => {
    const env = clientAnswering({
      status: 401,
      body: JSON.stringify({ status: 'error', message: 'Invalid token', data: { code: 'UNAUTHORIZED' } }),
    });
    expect(await caught(env.client.inference.chat({ endpointId: 'e' }, { messages }))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'Invalid token',
    });
    const html = clientAnswering({ status: 502, body: '<html>bad gateway</html>' });
    expect(await caught(html.client.inference.chat({ endpointId: 'e' }, { messages }))).toMatchObject({
      status: 502,
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/answered 502 with something other than an OpenAI answer/),
    });
  });
});

describe('inference.streamChat', () => {
  it('yields the chunks as they arrive, wherever the stream is cut, and ends at [DONE]', async () => {
    const wire = `${chunk('Hel')}: keep-alive\n\n${chunk('lo')}data: [DONE]\n\n`;
    const pieces = [wire.slice(0, 7), wire.slice(7, 50), wire.slice(50, 51), wire.slice(51)];
    const { client, seen } = clientAnswering({
      body: pieces,
      headers: { 'content-type': 'text/event-stream', 'x-llmops-revision': 'rev-2' },
    });
    let revision: string | null = null;
    const text = await collect(
      client.inference.streamChat({ endpointId: 'e' }, { messages }, { onRevision: (r) => (revision = r) }),
    );
    expect(text).toBe('Hello');
    expect(revision).toBe('rev-2');
    expect(seen[0]).toMatchObject({ body: { stream: true }, accept: 'text/event-stream' });
  });

  it('throws on an error sent in the stream and on a stream that stops before [DONE]', async () => {
    const failing = clientAnswering({
      body: [
        chunk('a'),
        `data: ${JSON.stringify({ error: { message: 'generation failed: oom', type: 'server_error' } })}\n\n`,
      ],
      headers: { 'content-type': 'text/event-stream' },
    });
    expect(
      await caught(collect(failing.client.inference.streamChat({ endpointId: 'e' }, { messages }))),
    ).toMatchObject({
      message: 'generation failed: oom',
    });
    const cut = clientAnswering({ body: [chunk('a')], headers: { 'content-type': 'text/event-stream' } });
    expect(
      await caught(collect(cut.client.inference.streamChat({ endpointId: 'e' }, { messages }))),
    ).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/ended before the model finished/),
    });
  });

  it('refuses before streaming with the error answer, e.g. 400 over the token limit', async () => {
    const { client } = clientAnswering({
      status: 400,
      body: JSON.stringify({
        error: {
          message: 'max_tokens 9 is above 8',
          type: 'invalid_request_error',
          code: 'max_output_tokens_exceeded',
        },
      }),
    });
    expect(
      await caught(collect(client.inference.streamChat({ endpointId: 'e' }, { messages }))),
    ).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'max_tokens 9 is above 8',
    });
  });

  it('passes on a whole answer from a server that does not stream as one chunk', async () => {
    const { client } = clientAnswering({
      body: JSON.stringify({
        id: 'c',
        object: 'chat.completion',
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }],
      }),
    });
    expect(await collect(client.inference.streamChat({ endpointId: 'e' }, { messages }))).toBe('whole');
  });
});
