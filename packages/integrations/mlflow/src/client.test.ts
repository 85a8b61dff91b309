import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  artifactProxyPath,
  createMlflowClient,
  isRetryable,
  metricValueFromWire,
  metricValueToWire,
  MlflowError,
} from './index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A local HTTP server whose answer each test chooses: errors, garbage, silence. */
describe('the adapter against a misbehaving server', () => {
  let server: Server;
  let url: string;
  let handler: Handler = (_req, res) => res.end('{}');
  const seen: { method: string; url: string; body: string; type?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, type: req.headers['content-type'] });
        handler(req, res, body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const json =
    (status: number, body: unknown): Handler =>
    (_req, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
  const client = (timeoutMs = 2000) => createMlflowClient({ baseUrl: `${url}/`, timeoutMs });
  const failure = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(MlflowError);
    return e as MlflowError;
  };

  it("carries the server's error_code, status and message, naming the operation; 4xx is not retryable", async () => {
    handler = json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Param key too long' });
    const e = await failure(client().logBatch({ runId: 'r1', params: [{ key: 'k', value: 'v' }] }));
    expect(e).toMatchObject({
      code: 'INVALID_PARAMETER_VALUE',
      httpStatus: 400,
      retryable: false,
      operation: 'runs/log-batch',
    });
    expect(e.message).toBe('MLflow runs/log-batch: INVALID_PARAMETER_VALUE: Param key too long');
    expect(isRetryable(e)).toBe(false);
    // The request itself: POST with a JSON body.
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/log-batch',
      type: 'application/json',
    });
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({
      run_id: 'r1',
      metrics: [],
      params: [{ key: 'k', value: 'v' }],
      tags: [],
    });
  });

  it('sends GET fields as a query string and maps not-found to null', async () => {
    handler = json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such run' });
    expect(await client().getRun('abc')).toBeNull();
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/2.0/mlflow/runs/get?run_id=abc' });
    expect(await client().getExperimentByName('a b&c')).toBeNull();
    expect(seen.at(-1)!.url).toBe('/api/2.0/mlflow/experiments/get-by-name?experiment_name=a+b%26c');
  });

  it.each([
    [500, { error_code: 'INTERNAL_ERROR', message: 'db locked' }, 'INTERNAL_ERROR'],
    [503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }, 'TEMPORARILY_UNAVAILABLE'],
    [429, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, 'REQUEST_LIMIT_EXCEEDED'],
  ])('HTTP %i is retryable (%j)', async (status, body, code) => {
    handler = json(status, body);
    const e = await failure(client().setTag('r', 'k', 'v'));
    expect(e).toMatchObject({ code, httpStatus: status, retryable: true });
    expect(isRetryable(e)).toBe(true);
  });

  it('an error page without error_code gets a code from its status', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    };
    const e = await failure(client().getRun('r'));
    expect(e).toMatchObject({ code: 'UNAVAILABLE', httpStatus: 502, retryable: true });
    expect(e.message).toBe('MLflow runs/get: UNAVAILABLE: HTTP 502: <html>Bad Gateway</html>');
    handler = (_req, res) => {
      res.writeHead(403);
      res.end();
    };
    expect(await failure(client().getRun('r'))).toMatchObject({
      code: 'PERMISSION_DENIED',
      httpStatus: 403,
      retryable: false,
    });
  });

  it('a 200 with garbage or an unexpected shape is BAD_RESPONSE, not retryable', async () => {
    handler = (_req, res) => res.end('<html>login page</html>');
    const garbage = await failure(client().getRun('r'));
    expect(garbage).toMatchObject({ code: 'BAD_RESPONSE', httpStatus: 200, retryable: false });
    expect(garbage.message).toMatch(
      /^MLflow runs\/get: BAD_RESPONSE: not JSON \(HTTP 200\): <html>login page/,
    );

    handler = json(200, { run: { info: { run_id: 5 } } });
    const shape = await failure(client().getRun('r'));
    expect(shape).toMatchObject({ code: 'BAD_RESPONSE', retryable: false });
    expect(shape.message).toMatch(/unexpected shape \(HTTP 200\): run\.info\.run_id: /);

    handler = json(200, { experiment_id: 7 });
    expect(await failure(client().createExperiment('x'))).toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('a server that does not answer in time is TIMEOUT, retryable', async () => {
    handler = () => {
      // Never answer.
    };
    const began = Date.now();
    const e = await failure(client(300).getRun('r'));
    expect(Date.now() - began).toBeLessThan(2000);
    expect(e).toMatchObject({ code: 'TIMEOUT', httpStatus: null, retryable: true });
    expect(e.message).toMatch(/^MLflow runs\/get: TIMEOUT: no answer from .* within 300 ms$/);
  });

  it('a body that stalls halfway is TIMEOUT too', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"run": ');
    };
    expect(await failure(client(300).getRun('r'))).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('a connection reset is UNAVAILABLE, retryable', async () => {
    handler = (req) => req.socket.destroy();
    const e = await failure(client().getRun('r'));
    expect(e).toMatchObject({ code: 'UNAVAILABLE', httpStatus: null, retryable: true });
  });

  it('tries a read once more after a reset or a server error, never a write', async () => {
    const run = {
      info: { run_id: 'r', experiment_id: '1', status: 'RUNNING', lifecycle_stage: 'active' },
      data: {},
    };
    let calls = 0;
    handler = (req, res) => {
      calls += 1;
      if (calls === 1) req.socket.destroy();
      else json(200, { runs: [run] })(req, res, '');
    };
    expect((await client().searchRuns({ experimentIds: ['1'] })).items).toHaveLength(1);
    expect(calls).toBe(2);

    calls = 0;
    handler = (req, res) => {
      calls += 1;
      if (calls === 1)
        json(500, { error_code: 'INTERNAL_ERROR', message: 'database is locked' })(req, res, '');
      else json(200, { run })(req, res, '');
    };
    expect(await client().getRun('r')).toMatchObject({ info: { run_id: 'r' } });
    expect(calls).toBe(2);

    calls = 0;
    handler = (req) => {
      calls += 1;
      req.socket.destroy();
    };
    expect(await failure(client().getRun('r'))).toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(2);

    calls = 0;
    expect(await failure(client().setTag('r', 'k', 'v'))).toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(1);
  });

  it('a refused connection is UNAVAILABLE, retryable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await failure(createMlflowClient({ baseUrl: `http://127.0.0.1:${port}` }).health());
    expect(e).toMatchObject({ code: 'UNAVAILABLE', retryable: true, operation: 'health' });
    expect(e.message).toMatch(/unreachable: ECONNREFUSED/);
  });

  it('sends NaN and infinities as strings and reads them back, including the stored ±max double', async () => {
    handler = json(200, {
      metrics: [
        { key: 'm', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'm', value: 1.7976931348623157e308, timestamp: 1, step: 1 },
        { key: 'm', value: '-Infinity', timestamp: 1, step: 2 },
        { key: 'm', value: 0.5, timestamp: 1 },
      ],
    });
    const history = await client().getMetricHistory('r', 'm');
    expect(history.map((m) => m.value)).toEqual([NaN, Infinity, -Infinity, 0.5]);
    expect(history[3]!.step).toBe(0);

    handler = json(200, {});
    await client().logBatch({
      runId: 'r',
      metrics: [NaN, Infinity, -Infinity, 2].map((value, step) => ({ key: 'm', value, timestamp: 1, step })),
    });
    expect(JSON.parse(seen.at(-1)!.body).metrics.map((m: any) => m.value)).toEqual([
      'NaN',
      'Infinity',
      '-Infinity',
      2,
    ]);
    expect([NaN, 1, -Infinity].map((v) => metricValueFromWire(metricValueToWire(v)))).toEqual([
      NaN,
      1,
      -Infinity,
    ]);
  });

  it('follows next_page_token through every page of a metric history', async () => {
    let page = 0;
    handler = (_req, res) => {
      page++;
      res.end(
        JSON.stringify({
          metrics: [{ key: 'm', value: page, timestamp: page, step: page }],
          ...(page < 3 ? { next_page_token: `t${page}` } : {}),
        }),
      );
    };
    const history = await client().getMetricHistory('r', 'm');
    expect(history.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(seen.at(-1)!.url).toContain('page_token=t2');
  });

  it('uploads an artifact with PUT to the proxy path of the run', async () => {
    handler = (_req, res) => res.end();
    const body = new TextEncoder().encode('bytes');
    await client().uploadArtifact(
      {
        run_id: 'r1',
        experiment_id: '3',
        status: 'RUNNING',
        lifecycle_stage: 'active',
        artifact_uri: 'mlflow-artifacts:/3/r1/artifacts',
      },
      'ckpt/step 1/a#b.bin',
      body,
    );
    expect(seen.at(-1)).toMatchObject({
      method: 'PUT',
      url: '/api/2.0/mlflow-artifacts/artifacts/3/r1/artifacts/ckpt/step%201/a%23b.bin',
      body: 'bytes',
    });
  });
});

describe('artifactProxyPath', () => {
  it('strips the scheme (and an authority) from the run artifact URI', () => {
    expect(artifactProxyPath('mlflow-artifacts:/1/abc/artifacts', 'model/config.json')).toBe(
      '1/abc/artifacts/model/config.json',
    );
    expect(artifactProxyPath('mlflow-artifacts://mlflow:5000/1/abc/artifacts', 'x')).toBe(
      '1/abc/artifacts/x',
    );
  });

  it('rejects an artifact URI the server does not proxy and paths that escape the run', () => {
    expect(() => artifactProxyPath('file:///data/1/abc/artifacts', 'x')).toThrow(
      /artifact_uri "file:\/\/\/data\/1\/abc\/artifacts" is not served by the tracking server/,
    );
    expect(() => artifactProxyPath(undefined, 'x')).toThrow(/artifact_uri null/);
    for (const bad of ['', '/abs', 'a/../b', 'a//b', './a'])
      expect(() => artifactProxyPath('mlflow-artifacts:/1/r/artifacts', bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', retryable: false }),
      );
  });
});

describe('isRetryable', () => {
  it('is false for anything that is not an MlflowError', () => {
    expect(isRetryable(new Error('x'))).toBe(false);
    expect(isRetryable('TIMEOUT')).toBe(false);
    expect(isRetryable(new MlflowError({ operation: 'op', code: 'TIMEOUT', message: 'm' }))).toBe(true);
    expect(isRetryable(new MlflowError({ operation: 'op', code: 'BAD_RESPONSE', message: 'm' }))).toBe(false);
  });
});
