import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { pickRevision, requireRole, type ServingRuntime, type Services } from '@llmops/core';
import type { EndpointRow } from '@llmops/db';
import {
  deploymentSpecSchema,
  errorEnvelopeSchema,
  inferenceErrorSchema,
  type DeploymentSpec,
} from '@llmops/spec';
import { z } from 'zod';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../../plugins/auth.ts';
import type { ModuleOptions } from '../types.ts';

/**
 * Inference through the platform (SPEC C7): OpenAI-compatible chat completions, completions and embeddings
 * under `/serving/endpoints/{endpointId}/v1/…` and under the endpoint's route
 * (`/serving/routes/{route}/v1/…`). The proxy enforces the DeploymentSpec's runtime limits it can judge
 * without the model (max_concurrent_requests → 429 with Retry-After, max_tokens over max_output_tokens →
 * 400); the model server counts prompt tokens with the model's own tokenizer and refuses a prompt over
 * max_input_tokens with 400. Each request goes to the revision the routing table picks (canary share,
 * A/B caller hash) and, when a revision shadows, a copy goes to it and its answer is discarded.
 * Errors are in the OpenAI wire format (`{ error: { message, type, code } }`) so OpenAI clients show them.
 */

const OPERATIONS = {
  'chat/completions': 'chat',
  completions: 'completion',
  embeddings: 'embedding',
} as const;
type Operation = keyof typeof OPERATIONS;

/**
 * Kept-alive connections to the model servers (a new TCP connection per request would cost ~1 ms), without
 * Nagle's algorithm: a small write behind an unacknowledged one must not wait for a delayed ACK (~40 ms).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000, noDelay: true });

/** Answers up to this size (with a Content-Length) are read whole and sent in one write. */
const BUFFERED_ANSWER_MAX = 1 << 20;

/**
 * Endpoint rows are read once and kept: a change of any endpoint, by any process, empties the cache
 * (changes are rare next to requests; decision 0019). The time limit bounds a lost notification.
 */
const ENDPOINT_TTL_MS = 30_000;

function openAiError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  const type =
    status === 429
      ? 'rate_limit_error'
      : status >= 500
        ? 'server_error'
        : status === 401 || status === 403
          ? 'permission_error'
          : 'invalid_request_error';
  return reply
    .status(status)
    .headers(headers)
    .send({ error: { message, type, code, param: null } });
}

/** The whole body of a response, resolved once it ended. */
function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

interface Resolved {
  endpoint: EndpointRow;
  spec: DeploymentSpec;
}

export function createInferenceProxy(opts: { services: Services; runtime: () => ServingRuntime | null }) {
  const { services } = opts;
  const endpoints = new Map<string, { at: number; value: Promise<Resolved | null> }>();
  const inflight = new Map<string, number>();
  // Entries are keyed by id or by route and may remember that nothing answered: any change clears all.
  // Subscribed on first use: the app is also built without services (OpenAPI document).
  let watching = false;

  async function resolve(projectId: string, key: { id?: string; route?: string }): Promise<Resolved | null> {
    const cacheKey = `${projectId}:${key.id ?? `route:${key.route}`}`;
    if (!watching) {
      watching = true;
      services.rollouts.watchEndpoints(() => endpoints.clear());
    }
    const hit = endpoints.get(cacheKey);
    if (hit && Date.now() - hit.at < ENDPOINT_TTL_MS) return hit.value;
    const value = (async () => {
      const endpoint = await services.rollouts.lookup(projectId, key);
      if (!endpoint || endpoint.status === 'DELETED' || endpoint.status === 'DELETING') return null;
      const spec = deploymentSpecSchema.safeParse(endpoint.spec);
      return spec.success ? { endpoint, spec: spec.data } : null;
    })();
    endpoints.set(cacheKey, { at: Date.now(), value });
    value.catch(() => endpoints.delete(cacheKey));
    return value;
  }

  /** Sends the body to `target`; resolves with the upstream response, rejects on a connection failure. */
  function send(target: string, op: Operation, body: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((res, rej) => {
      const url = new URL(`${target}/v1/${op}`);
      const req = httpRequest(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          signal,
        },
        res,
      );
      req.on('error', rej);
      req.end(body);
    });
  }

  /** Copies the request to the shadowing revision; its answer is read to the end and dropped. */
  function mirror(
    runtime: ServingRuntime,
    endpoint: EndpointRow,
    shadowId: string,
    op: Operation,
    body: string,
  ) {
    const target = runtime.driver.target(endpoint.id, shadowId);
    if (!target) return;
    const started = performance.now();
    send(target, op, body).then(
      (upstream) => {
        upstream.resume();
        upstream.on('end', () =>
          runtime.telemetry.record(shadowId, {
            ok: (upstream.statusCode ?? 500) < 500,
            latencyMs: performance.now() - started,
          }),
        );
      },
      () => runtime.telemetry.record(shadowId, { ok: false, latencyMs: performance.now() - started }),
    );
  }

  async function handle(
    req: FastifyRequest,
    reply: FastifyReply,
    key: { id?: string; route?: string },
    op: Operation,
  ) {
    const actor = actorOf(req);
    const project = requireRole(actor, 'viewer');
    const runtime = opts.runtime();
    if (!runtime)
      return openAiError(
        reply,
        503,
        'serving_unavailable',
        'This platform process serves no models (no serving backend)',
      );
    const resolved = await resolve(project.id, key);
    if (!resolved)
      return openAiError(
        reply,
        404,
        'endpoint_not_found',
        key.id ? `Serving endpoint '${key.id}' not found` : `No serving endpoint at route '${key.route}'`,
      );
    const { endpoint, spec } = resolved;
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return openAiError(reply, 400, 'invalid_body', 'The request body must be a JSON object');
    const b = body as Record<string, unknown>;
    if (op !== 'embeddings') {
      const maxTokens = b.max_tokens ?? b.max_completion_tokens;
      if (
        maxTokens !== undefined &&
        (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
      )
        return openAiError(reply, 400, 'invalid_max_tokens', 'max_tokens must be a positive integer');
      if (typeof maxTokens === 'number' && maxTokens > spec.runtime.max_output_tokens)
        return openAiError(
          reply,
          400,
          'max_output_tokens_exceeded',
          `max_tokens ${maxTokens} is above this endpoint's max_output_tokens (${spec.runtime.max_output_tokens})`,
        );
    }
    const table = await runtime.router.table(endpoint.id);
    const caller = (req.headers['x-llmops-user'] as string | undefined) ?? actor.userId;
    const choice = pickRevision(table, caller);
    if (!choice)
      return openAiError(
        reply,
        503,
        'not_ready',
        `Endpoint ${endpoint.id} is ${endpoint.status}: no model version serves traffic yet`,
        { 'retry-after': '5' },
      );

    const limit = spec.runtime.max_concurrent_requests;
    const now = inflight.get(endpoint.id) ?? 0;
    if (now >= limit)
      return openAiError(
        reply,
        429,
        'too_many_concurrent_requests',
        `Endpoint ${endpoint.id} is answering ${now} requests, its max_concurrent_requests; retry shortly`,
        { 'retry-after': '1' },
      );
    inflight.set(endpoint.id, now + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (inflight.get(endpoint.id) ?? 1) - 1;
      if (n > 0) inflight.set(endpoint.id, n);
      else inflight.delete(endpoint.id);
    };

    const payload = JSON.stringify(body);
    if (choice.shadowId) mirror(runtime, endpoint, choice.shadowId, op, payload);
    const started = performance.now();
    const record = (ok: boolean) =>
      runtime.telemetry.record(choice.revisionId, { ok, latencyMs: performance.now() - started });

    // A replica that died between requests is skipped: one more try on the next one.
    let upstream: IncomingMessage | null = null;
    let lastError: Error | null = null;
    for (let attempt = 0; attempt < 2 && !upstream; attempt++) {
      const target = runtime.driver.target(endpoint.id, choice.revisionId);
      if (!target) break;
      try {
        upstream = await send(target, op, payload);
      } catch (e) {
        lastError = e as Error;
        record(false);
      }
    }
    if (!upstream) {
      release();
      return lastError
        ? openAiError(
            reply,
            502,
            'upstream_unreachable',
            `The model server did not answer: ${lastError.message}`,
          )
        : openAiError(
            reply,
            503,
            'no_ready_replica',
            'No replica of this model version is ready; retry shortly',
            {
              'retry-after': '2',
            },
          );
    }
    const status = upstream.statusCode ?? 502;
    const done = (ok: boolean) => {
      release();
      record(ok);
    };
    upstream.once('end', () => done(status < 500));
    upstream.once('error', () => done(false));
    reply.raw.once('close', release);
    const headers: Record<string, string> = { 'x-llmops-revision': choice.revisionId };
    for (const h of ['content-type', 'cache-control']) {
      const v = upstream.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    // A whole answer (not a stream) goes out in one write with its headers, straight to the socket: it is
    // the model server's bytes, with nothing for the framework's reply pipeline to serialise or check, and
    // written piece by piece the pieces after the first could wait for the client's delayed ACK.
    const length = Number(upstream.headers['content-length']);
    if (Number.isFinite(length) && length <= BUFFERED_ANSWER_MAX) {
      const answer = await readAll(upstream);
      reply.hijack();
      reply.raw.writeHead(status, { ...headers, 'content-length': String(answer.length) });
      reply.raw.end(answer);
      return reply;
    }
    return reply.status(status).headers(headers).send(upstream);
  }

  return { handle, OPERATIONS };
}

/**
 * Errors of these routes are either the proxy's own (OpenAI format) or the platform's (authentication,
 * project, role: the envelope); both are documented and serialised.
 */
const errors = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503].map((code) => [
    code,
    z.union([inferenceErrorSchema, errorEnvelopeSchema]),
  ]),
);

export const inferenceRoutes: FastifyPluginAsync<ModuleOptions> = async (app, { services }) => {
  const proxy = createInferenceProxy({ services, runtime: services.servingRuntime });
  const ops = Object.keys(OPERATIONS) as Operation[];
  // Request bodies are the OpenAI wire format, checked by the model server (not described here).
  for (const op of ops)
    app.post<{ Params: { endpointId: string } }>(
      `/serving/endpoints/:endpointId/v1/${op}`,
      {
        schema: {
          tags: ['inference'],
          summary: `OpenAI-compatible ${OPERATIONS[op]} through the platform`,
          response: errors,
        },
      },
      (req, reply) => proxy.handle(req, reply, { id: req.params.endpointId }, op),
    );
  app.post<{ Params: { '*': string } }>(
    '/serving/routes/*',
    {
      schema: {
        tags: ['inference'],
        summary:
          "OpenAI-compatible inference under the endpoint's route: /serving/routes{route}/v1/chat/completions",
        response: errors,
      },
    },
    (req, reply) => {
      const path = `/${req.params['*']}`;
      const op = ops.find((o) => path.endsWith(`/v1/${o}`));
      if (!op)
        return openAiError(
          reply,
          404,
          'not_found',
          `No inference operation at ${path}; use …/v1/${ops.join(' or …/v1/')}`,
        );
      return proxy.handle(req, reply, { route: path.slice(0, -`/v1/${op}`.length) }, op);
    },
  );
};
