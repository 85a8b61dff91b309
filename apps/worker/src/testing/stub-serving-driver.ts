import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RevisionDeployment, RevisionStatus, ServingDriver, TrafficWeights } from '@llmops/core';

function wantsStream(body: string): boolean {
  try {
    return (JSON.parse(body) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

/**
 * The answer as the model servers stream it: OpenAI `chat.completion.chunk` events (the role first, then
 * the text in pieces, then the finish reason) and `data: [DONE]`.
 */
function streamAnswer(res: ServerResponse, model: string, content: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const head = { id: 'chatcmpl-stub', object: 'chat.completion.chunk', model };
  const send = (delta: Record<string, string>, finish: string | null) =>
    res.write(
      `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
    );
  send({ role: 'assistant', content: '' }, null);
  for (const piece of content.match(/.{1,8}/g) ?? []) send({ content: piece }, null);
  send({}, 'stop');
  res.end('data: [DONE]\n\n');
}

/**
 * A serving driver for the rollout workflow's tests: each replica is a small HTTP server on loopback that
 * answers the OpenAI routes with the revision's id in the text (streamed as Server-Sent Events when the
 * request says `stream: true`), so a test sees which revision answered.
 * `breakRevision` makes a revision answer 500 (a version that starts but cannot serve); `failStart` makes
 * the next deploy of a model version never become ready. The local driver (real model servers) has its
 * own tests; this one makes the workflow's timing and traffic logic fast and deterministic.
 */
export class StubServingDriver implements ServingDriver {
  readonly name = 'local' as const;
  readonly splitsTraffic = false;
  private readonly revisions = new Map<
    string,
    {
      servers: Server[];
      urls: string[];
      next: number;
      state: RevisionStatus['state'];
      message: string | null;
    }
  >();
  private readonly broken = new Set<string>();
  private readonly failVersions = new Set<string>();
  private readonly refusedVersions = new Set<string>();
  readonly trafficCalls: TrafficWeights[] = [];
  readonly deployed: RevisionDeployment[] = [];

  breakRevision(revisionId: string): void {
    this.broken.add(revisionId);
  }

  /** Deploys of this model version never become ready (the workflow's ready timeout decides). */
  failStart(modelVersion: string): void {
    this.failVersions.add(modelVersion);
  }

  /** Deploys of this model version are refused for good, like a cluster refusing an invalid object. */
  refuse(modelVersion: string): void {
    this.refusedVersions.add(modelVersion);
  }

  async deploy(d: RevisionDeployment): Promise<RevisionStatus> {
    if (this.revisions.has(d.revisionId)) return this.status(d.endpointId, d.revisionId);
    if (this.refusedVersions.has(d.model.version))
      throw Object.assign(new Error('InferenceService is invalid: spec.predictor: Required value'), {
        retryable: false,
      });
    this.deployed.push(d);
    if (this.failVersions.has(d.model.version)) {
      this.revisions.set(d.revisionId, {
        servers: [],
        urls: [],
        next: 0,
        state: 'failed',
        message: `model ${d.model.name} v${d.model.version}: the model files are missing`,
      });
      return this.status(d.endpointId, d.revisionId);
    }
    const servers: Server[] = [];
    const urls: string[] = [];
    for (let i = 0; i < d.replicas; i++) {
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (this.broken.has(d.revisionId)) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: 'model crashed', type: 'server_error' } }));
            return;
          }
          const content = `${d.revisionId}/r${i}`;
          if (wantsStream(body)) {
            streamAnswer(res, d.model.name, content);
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'cmpl-stub',
              object: 'chat.completion',
              model: d.model.name,
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content },
                  finish_reason: 'stop',
                },
              ],
              usage: { prompt_tokens: body.length, completion_tokens: 1, total_tokens: body.length + 1 },
            }),
          );
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    this.revisions.set(d.revisionId, { servers, urls, next: 0, state: 'ready', message: null });
    return this.status(d.endpointId, d.revisionId);
  }

  async status(endpointId: string, revisionId: string): Promise<RevisionStatus> {
    const r = this.revisions.get(revisionId);
    if (!r) return { endpointId, revisionId, state: 'removed', replicas: [], message: 'not deployed' };
    return {
      endpointId,
      revisionId,
      state: r.state,
      message: r.message,
      replicas: r.urls.map((url, i) => ({
        id: `r${i}`,
        state: r.state === 'ready' ? 'ready' : 'stopped',
        url,
        message: null,
        restarts: 0,
      })),
    };
  }

  async waitReady(endpointId: string, revisionId: string): Promise<RevisionStatus> {
    return this.status(endpointId, revisionId);
  }

  async setTraffic(_endpointId: string, weights: TrafficWeights): Promise<void> {
    this.trafficCalls.push(weights);
  }

  async remove(_endpointId: string, revisionId: string): Promise<void> {
    const r = this.revisions.get(revisionId);
    if (!r) return;
    this.revisions.delete(revisionId);
    await Promise.all(r.servers.map((s) => new Promise((res) => s.close(res))));
  }

  target(_endpointId: string, revisionId: string): string | null {
    const r = this.revisions.get(revisionId);
    if (!r || r.state !== 'ready' || !r.urls.length) return null;
    return r.urls[r.next++ % r.urls.length]!;
  }

  /** Ids of revisions with running replicas. */
  running(): string[] {
    return [...this.revisions.keys()];
  }

  async close(): Promise<void> {
    for (const id of [...this.revisions.keys()]) await this.remove('', id);
  }
}
