import type { RuleViolation } from './types.ts';
import { ApiError } from './errors.ts';

export const API_PATH = '/llm-ops/v1';

export interface ResponseInfo {
  method: string;
  url: string;
  status: number;
  message: string;
}

export interface TransportOptions {
  /** Where the platform listens, e.g. http://127.0.0.1:8000 (a trailing /llm-ops/v1 is accepted too). */
  baseUrl: string;
  token?: string;
  /** Project slug sent as X-Project; default: the token's project. */
  project?: string;
  fetch?: typeof globalThis.fetch;
  /** Gives up on an answer after this long (uploads are exempt); default: wait. */
  timeoutMs?: number;
  /** Sees every envelope that arrives, e.g. to show the server's message. */
  onResponse?: (info: ResponseInfo) => void;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string | undefined>;
  /** Long transfers (uploads) must not be cut off by timeoutMs. */
  untimed?: boolean;
}

export interface Envelope<T> {
  httpStatus: number;
  message: string;
  data: T;
}

export interface StreamOptions {
  query?: Record<string, QueryValue>;
  /** Ends the request; timeoutMs covers only the wait for the answer's headers. */
  signal?: AbortSignal;
}

export interface Transport {
  /** The platform's root URL, without the API path. */
  readonly baseUrl: string;
  send<T>(method: string, path: string, opts?: RequestOptions): Promise<Envelope<T>>;
  /**
   * GETs a `text/event-stream` and resolves once its headers arrived; the body is the caller's to read.
   * An error answer is thrown as ApiError, as with send().
   */
  openStream(path: string, opts?: StreamOptions): Promise<Response>;
  /**
   * POSTs JSON and resolves with the answer as it arrived, whatever its status or format (inference routes
   * answer in the OpenAI wire format, not the envelope). Only a failure to reach the platform throws.
   */
  postRaw(path: string, json: unknown, opts?: RawPostOptions): Promise<Response>;
}

export interface RawPostOptions {
  accept?: string;
  signal?: AbortSignal;
  /** Waits without limit for the whole answer (a stream); timeoutMs then covers only its headers. */
  streaming?: boolean;
}

/** Accepts `host:port`-less typos early, with a message that names the bad value. */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`Invalid platform URL '${raw}': expected something like http://127.0.0.1:8000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`Invalid platform URL '${raw}': only http:// and https:// are supported`);
  }
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith(API_PATH)) path = path.slice(0, -API_PATH.length);
  return `${url.origin}${path}`;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function causeCode(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c && depth < 4; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/** fetch says only "fetch failed"; the reason (e.g. "bad port") sits in its cause. */
function deepestMessage(e: unknown): string {
  let message = e instanceof Error ? e.message : String(e);
  for (let c = (e as { cause?: unknown }).cause, depth = 0; c instanceof Error && depth < 4; depth++) {
    message = c.message;
    c = (c as { cause?: unknown }).cause;
  }
  return message;
}

function transportError(e: unknown, baseUrl: string, timeoutMs: number | undefined): ApiError {
  const name = (e as { name?: unknown }).name;
  if (name === 'TimeoutError') {
    return new ApiError({
      status: 0,
      code: 'UNAVAILABLE',
      message: `The platform at ${baseUrl} did not answer within ${(timeoutMs ?? 0) / 1000}s`,
      cause: e,
    });
  }
  const code = causeCode(e);
  const why =
    code === 'ECONNREFUSED'
      ? 'is it running? (llmops up)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `host '${new URL(baseUrl).hostname}' not found`
        : (code ?? deepestMessage(e).trim());
  return new ApiError({
    status: 0,
    code: 'UNAVAILABLE',
    message: `Cannot reach the platform at ${baseUrl}: ${why}`,
    cause: e,
  });
}

function invalidResponse(res: Response, url: string, text: string, why: string): ApiError {
  const type = res.headers.get('content-type') ?? 'no content type';
  const snippet = text.trim().slice(0, 120).replace(/\s+/g, ' ');
  return new ApiError({
    status: res.status,
    code: 'INVALID_RESPONSE',
    message:
      `${url} answered ${res.status} (${type}) ${why}: is the URL that of the platform?` +
      (snippet ? ` Body starts: ${snippet}` : ''),
  });
}

interface RawEnvelope {
  status: 'success' | 'error';
  message: string;
  data?: unknown;
}

function isEnvelope(v: unknown): v is RawEnvelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (e.status === 'success' || e.status === 'error') && typeof e.message === 'string';
}

function errorFromEnvelope(httpStatus: number, env: RawEnvelope): ApiError {
  const data = (typeof env.data === 'object' && env.data !== null ? env.data : {}) as Record<string, unknown>;
  return new ApiError({
    status: httpStatus,
    code: (typeof data.code === 'string' ? data.code : 'INTERNAL') as ApiError['code'],
    message: env.message,
    violations: Array.isArray(data.violations) ? (data.violations as RuleViolation[]) : [],
    requestId: typeof data.requestId === 'string' ? data.requestId : undefined,
    details:
      typeof data.details === 'object' && data.details !== null
        ? (data.details as Record<string, unknown>)
        : undefined,
  });
}

function buildUrl(baseUrl: string, path: string, query: Record<string, QueryValue> = {}): string {
  const url = new URL(`${baseUrl}${API_PATH}${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

export function createTransport(opts: TransportOptions): Transport {
  const baseUrl = normaliseBaseUrl(opts.baseUrl);
  const doFetch = opts.fetch ?? globalThis.fetch;

  const headersFor = (accept: string, extra: RequestOptions['headers'] = {}) => {
    const headers: Record<string, string> = { accept };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.project) headers['x-project'] = opts.project;
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) headers[k.toLowerCase()] = v;
    return headers;
  };

  const send = async <T>(method: string, path: string, ro: RequestOptions = {}): Promise<Envelope<T>> => {
    const url = buildUrl(baseUrl, path, ro.query);
    const headers = headersFor('application/json', ro.headers);
    let body: string | FormData | undefined;
    if (ro.form) body = ro.form;
    else if (ro.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(ro.json);
    }
    const signal =
      opts.timeoutMs !== undefined && !ro.untimed ? AbortSignal.timeout(opts.timeoutMs) : undefined;

    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, { method, headers, body, signal });
      text = await res.text();
    } catch (e) {
      throw transportError(e, baseUrl, opts.timeoutMs);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalidResponse(res, url, text, 'with something other than JSON');
    }
    if (!isEnvelope(parsed))
      throw invalidResponse(res, url, text, 'without the {status, message, data} envelope');
    opts.onResponse?.({ method, url, status: res.status, message: parsed.message });
    if (parsed.status === 'error' || !res.ok) throw errorFromEnvelope(res.status, parsed);
    return { httpStatus: res.status, message: parsed.message, data: parsed.data as T };
  };

  const openStream = async (path: string, so: StreamOptions = {}): Promise<Response> => {
    const url = buildUrl(baseUrl, path, so.query);
    const headers = headersFor('text/event-stream');
    // A stream may rightly stay open for hours: the timeout guards only the wait for its headers.
    const waiting = new AbortController();
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => waiting.abort(new DOMException('no answer in time', 'TimeoutError')),
            opts.timeoutMs,
          );
    const signal = so.signal ? AbortSignal.any([so.signal, waiting.signal]) : waiting.signal;
    let res: Response;
    try {
      res = await doFetch(url, { method: 'GET', headers, signal });
    } catch (e) {
      // The caller's own abort is not a transport failure; it gets its reason back unchanged.
      if (so.signal?.aborted) throw e;
      throw transportError(e, baseUrl, opts.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    const type = res.headers.get('content-type') ?? '';
    if (res.ok && type.startsWith('text/event-stream') && res.body) {
      opts.onResponse?.({ method: 'GET', url, status: res.status, message: 'event stream' });
      return res;
    }
    let text = '';
    try {
      text = await res.text();
    } catch (e) {
      throw transportError(e, baseUrl, opts.timeoutMs);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalidResponse(res, url, text, 'with something other than an event stream');
    }
    if (!isEnvelope(parsed) || (res.ok && parsed.status === 'success'))
      throw invalidResponse(res, url, text, 'with something other than an event stream');
    opts.onResponse?.({ method: 'GET', url, status: res.status, message: parsed.message });
    throw errorFromEnvelope(res.status, parsed);
  };

  const postRaw = async (path: string, json: unknown, ro: RawPostOptions = {}): Promise<Response> => {
    const url = buildUrl(baseUrl, path);
    const headers = { ...headersFor(ro.accept ?? 'application/json'), 'content-type': 'application/json' };
    const waiting = new AbortController();
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => waiting.abort(new DOMException('no answer in time', 'TimeoutError')),
            opts.timeoutMs,
          );
    const signal = ro.signal ? AbortSignal.any([ro.signal, waiting.signal]) : waiting.signal;
    try {
      const res = await doFetch(url, { method: 'POST', headers, body: JSON.stringify(json), signal });
      // A whole answer must arrive within the limit; a stream only has to start.
      if (!ro.streaming) {
        const body = [204, 205, 304].includes(res.status) ? null : await res.arrayBuffer();
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
      return res;
    } catch (e) {
      if (ro.signal?.aborted) throw e;
      throw transportError(e, baseUrl, opts.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  };

  return { baseUrl, send, openStream, postRaw };
}
