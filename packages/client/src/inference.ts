import { EventSourceParserStream } from 'eventsource-parser/stream';
import { ApiError } from './errors.ts';
import type { Transport } from './http.ts';
import type { ClientErrorCode } from './types.ts';

/** An endpoint by its id, or by its route (`/test-model`). */
export type InferenceTarget = { endpointId: string } | { route: string };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The OpenAI chat completion request; fields the platform does not know are passed to the model server. */
export interface ChatRequest {
  messages: ChatMessage[];
  model?: string;
  max_tokens?: number;
  temperature?: number;
  [field: string]: unknown;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  model: string;
  choices: { index: number; message: ChatMessage; finish_reason: string | null }[];
  usage?: ChatUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  model: string;
  choices: {
    index: number;
    delta: { role?: ChatMessage['role']; content?: string };
    finish_reason: string | null;
  }[];
  usage?: ChatUsage | null;
}

export interface InferenceOptions {
  signal?: AbortSignal;
}

/** The revision that answered (`x-llmops-revision`) travels with every answer. */
export interface Answered<T> {
  value: T;
  revisionId: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function inferencePath(target: InferenceTarget, operation: string): string {
  if ('endpointId' in target)
    return `/serving/endpoints/${encodeURIComponent(target.endpointId)}/v1/${operation}`;
  const route = target.route.startsWith('/') ? target.route : `/${target.route}`;
  return `/serving/routes${route.split('/').map(encodeURIComponent).join('/')}/v1/${operation}`;
}

function codeFor(status: number): ClientErrorCode {
  if (status === 400 || status === 422) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 502 || status === 503 || status === 504) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/**
 * An error answer of an inference route as an ApiError: the OpenAI form (`{error: {message, type, code}}`,
 * from the proxy or the model server) or the platform's envelope (authentication, project, role).
 * `details` carries the OpenAI `type` and `code` and the `Retry-After` seconds when sent.
 */
export function inferenceError(status: number, body: unknown, retryAfter: string | null): ApiError {
  const details: Record<string, unknown> = {};
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds)) details.retryAfterSeconds = seconds;
  if (isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string') {
    details.type = body.error.type ?? null;
    details.code = body.error.code ?? null;
    return new ApiError({ status, code: codeFor(status), message: body.error.message, details });
  }
  if (isRecord(body) && body.status === 'error' && typeof body.message === 'string') {
    const data = isRecord(body.data) ? body.data : {};
    const code = typeof data.code === 'string' ? (data.code as ClientErrorCode) : codeFor(status);
    return new ApiError({ status, code, message: body.message, details });
  }
  return new ApiError({
    status,
    code: status >= 200 && status < 300 ? 'INVALID_RESPONSE' : codeFor(status),
    message: `The inference route answered ${status} with something other than an OpenAI answer`,
    details,
  });
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return inferenceError(res.status, body, res.headers.get('retry-after'));
}

/**
 * OpenAI-compatible inference through the platform (`…/v1/chat/completions`), answered whole or as a
 * stream of chunks (Server-Sent Events ending with `data: [DONE]`).
 */
export function inferenceApi(transport: Transport) {
  return {
    async chat(
      target: InferenceTarget,
      body: ChatRequest,
      opts: InferenceOptions = {},
    ): Promise<Answered<ChatCompletion>> {
      const res = await transport.postRaw(
        inferencePath(target, 'chat/completions'),
        { ...body, stream: false },
        { signal: opts.signal },
      );
      if (!res.ok) throw await failure(res);
      const value = (await res.json().catch(() => undefined)) as ChatCompletion | undefined;
      if (!isRecord(value) || !Array.isArray(value.choices)) throw inferenceError(res.status, value, null);
      return { value, revisionId: res.headers.get('x-llmops-revision') };
    },

    /**
     * The answer chunk by chunk as the model writes it. Ends after `[DONE]`; an error sent in the stream,
     * or a stream that stops before `[DONE]`, throws. Aborting `signal` ends the iteration quietly.
     */
    async *streamChat(
      target: InferenceTarget,
      body: ChatRequest,
      opts: InferenceOptions & { onRevision?: (revisionId: string | null) => void } = {},
    ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
      const { signal } = opts;
      let res: Response;
      try {
        res = await transport.postRaw(
          inferencePath(target, 'chat/completions'),
          { ...body, stream: true },
          { signal, streaming: true, accept: 'text/event-stream' },
        );
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      if (!res.ok) throw await failure(res);
      opts.onRevision?.(res.headers.get('x-llmops-revision'));
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || !res.body) {
        // A server that ignores `stream` answers whole: hand it on as one chunk.
        const whole = (await res.json().catch(() => undefined)) as ChatCompletion | undefined;
        if (!isRecord(whole) || !Array.isArray(whole.choices)) throw inferenceError(res.status, whole, null);
        yield {
          id: whole.id,
          object: 'chat.completion.chunk',
          model: whole.model,
          choices: whole.choices.map((c) => ({
            index: c.index,
            delta: c.message,
            finish_reason: c.finish_reason,
          })),
          usage: whole.usage ?? null,
        };
        return;
      }
      const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      const reader = events.getReader();
      const onAbort = () => void reader.cancel().catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for (;;) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (e) {
            if (signal?.aborted) return;
            throw new ApiError({
              status: 0,
              code: 'UNAVAILABLE',
              message: `The answer stream broke off: ${e instanceof Error ? e.message : String(e)}`,
              cause: e,
            });
          }
          if (next.done) {
            if (signal?.aborted) return;
            throw new ApiError({
              status: res.status,
              code: 'UNAVAILABLE',
              message: 'The answer stream ended before the model finished (no [DONE])',
            });
          }
          const data = next.value.data;
          if (data === '[DONE]') return;
          let chunk: unknown;
          try {
            chunk = JSON.parse(data);
          } catch {
            throw new ApiError({
              status: res.status,
              code: 'INVALID_RESPONSE',
              message: `The answer stream sent something other than JSON: ${data.slice(0, 120)}`,
            });
          }
          if (isRecord(chunk) && 'error' in chunk) throw inferenceError(500, chunk, null);
          if (!isRecord(chunk) || !Array.isArray(chunk.choices))
            throw new ApiError({
              status: res.status,
              code: 'INVALID_RESPONSE',
              message: `The answer stream sent a chunk without choices: ${data.slice(0, 120)}`,
            });
          yield chunk as unknown as ChatCompletionChunk;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        await reader.cancel().catch(() => undefined);
      }
    },
  };
}
