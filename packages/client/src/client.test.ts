import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, isApiError, normaliseBaseUrl } from './index.ts';

interface Seen {
  url: URL;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A fetch that records the request and answers with a fixed status and body. */
function fakeFetch(status: number, body: unknown, contentType = 'application/json') {
  const seen: Seen[] = [];
  const fetch = async (input: string | URL | Request, init: RequestInit = {}) => {
    const req = new Request(input, init);
    const type = req.headers.get('content-type') ?? '';
    const parsed = type.startsWith('multipart/') ? await req.formData() : type ? await req.json() : undefined;
    seen.push({ url: new URL(req.url), method: req.method, headers: req.headers, body: parsed });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { 'content-type': contentType } });
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

const ok = (data: unknown, message = 'OK') => ({ status: 'success', message, data });

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('normaliseBaseUrl', () => {
  it.each([
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:8000/', 'http://127.0.0.1:8000'],
    ['http://h:1/llm-ops/v1/', 'http://h:1'],
    ['https://ops.example.org/prefix/', 'https://ops.example.org/prefix'],
  ])('%s → %s', (raw, expected) => expect(normaliseBaseUrl(raw)).toBe(expected));

  it('names the bad value', () => {
    expect(() => normaliseBaseUrl('localhost:8000')).toThrow("'localhost:8000': only http:// and https://");
    expect(() => normaliseBaseUrl('not a url')).toThrow("Invalid platform URL 'not a url'");
  });
});

describe('createClient requests', () => {
  it('sends the token, the project and JSON, and returns the data', async () => {
    const { fetch, seen } = fakeFetch(201, ok({ id: 'm1', name: 'x' }));
    const c = createClient({ baseUrl: 'http://h:1', token: 'tok', project: 'team-a', fetch });
    const model = await c.models.create({
      name: 'x',
      model_family: 'llama',
      max_position_embeddings: 1,
      parameter_count: 1,
    });
    expect(model).toEqual({ id: 'm1', name: 'x' });
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url.pathname).toBe('/llm-ops/v1/catalog/models');
    expect(req?.headers.get('authorization')).toBe('Bearer tok');
    expect(req?.headers.get('x-project')).toBe('team-a');
    expect(req?.body).toMatchObject({ name: 'x', model_family: 'llama' });
  });

  it('puts filters in the query and leaves unset ones out', async () => {
    const { fetch, seen } = fakeFetch(200, ok({ items: [], total: 0, limit: 5, offset: 0 }));
    await createClient({ baseUrl: 'http://h:1', fetch }).jobs.list({ status: 'QUEUED', limit: 5 });
    expect(Object.fromEntries(seen[0]!.url.searchParams)).toEqual({ status: 'QUEUED', limit: '5' });
    expect(seen[0]!.headers.has('authorization')).toBe(false);
  });

  it('sends the idempotency key as a header only when given', async () => {
    const { fetch, seen } = fakeFetch(201, ok({ id: 'j1' }));
    const c = createClient({ baseUrl: 'http://h:1', fetch });
    const body = { jobType: 'eval' } as never;
    await c.jobs.submit(body, { idempotencyKey: 'k-1' });
    await c.jobs.submit(body);
    expect(seen[0]!.headers.get('idempotency-key')).toBe('k-1');
    expect(seen[1]!.headers.has('idempotency-key')).toBe(false);
  });

  it('encodes ids in paths and passes revalidate flags as query strings', async () => {
    const { fetch, seen } = fakeFetch(200, ok({ checked: 0, nonCompliant: 0, items: [] }));
    const c = createClient({ baseUrl: 'http://h:1', fetch });
    await c.jobs.revalidate({ jobId: 'a/b', allProjects: true });
    expect(seen[0]!.url.search).toBe('?jobId=a%2Fb&allProjects=true');
    await c.endpoints.get('a/b').catch(() => undefined);
    expect(seen[1]!.url.pathname).toBe('/llm-ops/v1/serving/endpoints/a%2Fb');
  });

  it('reports each envelope to onResponse', async () => {
    const { fetch } = fakeFetch(200, ok({ id: 'j1' }, 'Job already submitted with this Idempotency-Key'));
    const messages: string[] = [];
    await createClient({
      baseUrl: 'http://h:1',
      fetch,
      onResponse: (r) => messages.push(`${r.status} ${r.message}`),
    }).jobs.get('j1');
    expect(messages).toEqual(['200 Job already submitted with this Idempotency-Key']);
  });
});

describe('createClient errors', () => {
  it('turns an error envelope into an ApiError with code and violations', async () => {
    const violations = [
      { code: 'GPU_TYPE_NOT_AVAILABLE', path: 'trainJobSpec.resources.gpu_type', message: 'no H200' },
    ];
    const { fetch } = fakeFetch(422, {
      status: 'error',
      message: 'Invalid',
      data: { code: 'VALIDATION_FAILED', violations, requestId: 'r1' },
    });
    const e = await caught(createClient({ baseUrl: 'http://h:1', fetch }).jobs.get('x'));
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({
      status: 422,
      code: 'VALIDATION_FAILED',
      message: 'Invalid',
      requestId: 'r1',
      violations,
    });
  });

  it('explains a refused connection and names the URL', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof globalThis.fetch;
    const e = await caught(createClient({ baseUrl: 'http://127.0.0.1:9/', fetch }).whoami());
    expect(e).toMatchObject({ status: 0, code: 'UNAVAILABLE' });
    expect(e.message).toBe('Cannot reach the platform at http://127.0.0.1:9: is it running? (llmops up)');
  });

  it('reports a timeout as UNAVAILABLE with the limit', async () => {
    const fetch = ((_u: string, init: RequestInit) =>
      new Promise((_res, rej) =>
        init.signal?.addEventListener('abort', () => rej(init.signal?.reason)),
      )) as typeof globalThis.fetch;
    const e = await caught(createClient({ baseUrl: 'http://h:1', fetch, timeoutMs: 20 }).health());
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.message).toBe('The platform at http://h:1 did not answer within 0.02s');
  });

  it('rejects an answer that is not JSON', async () => {
    const { fetch } = fakeFetch(200, '<html>hello</html>', 'text/html');
    const e = await caught(createClient({ baseUrl: 'http://h:1', fetch }).health());
    expect(e.code).toBe('INVALID_RESPONSE');
    expect(e.message).toContain('answered 200 (text/html) with something other than JSON');
    expect(e.message).toContain('<html>hello</html>');
  });

  it('rejects JSON without the envelope', async () => {
    const { fetch } = fakeFetch(200, { hello: 'world' });
    const e = await caught(createClient({ baseUrl: 'http://h:1', fetch }).health());
    expect(e.code).toBe('INVALID_RESPONSE');
    expect(e.message).toContain('without the {status, message, data} envelope');
  });
});

describe('datasets.upload', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmops-client-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('sends the fields before the file, with the file name and its content', async () => {
    const file = join(dir, 'pairs.jsonl');
    await writeFile(file, '{"prompt":"a","response":"b"}\n');
    const { fetch, seen } = fakeFetch(201, ok({ id: 'd1' }));
    await createClient({ baseUrl: 'http://h:1', fetch }).datasets.upload({
      file,
      name: 'n',
      version: 'v1',
      type: 'sft_pair',
    });
    const form = seen[0]!.body as FormData;
    expect([...form.keys()]).toEqual(['name', 'version', 'type', 'file']);
    const part = form.get('file') as File;
    expect(part.name).toBe('pairs.jsonl');
    expect(await part.text()).toBe('{"prompt":"a","response":"b"}\n');
  });

  it('names a missing file without sending anything', async () => {
    const { fetch, seen } = fakeFetch(201, ok({}));
    const missing = join(dir, 'missing.jsonl');
    await expect(
      createClient({ baseUrl: 'http://h:1', fetch }).datasets.upload({
        file: missing,
        name: 'n',
        version: 'v',
        type: 'sft_pair',
      }),
    ).rejects.toThrow(`Cannot read dataset file '${missing}': no such file`);
    expect(seen).toHaveLength(0);
  });
});
