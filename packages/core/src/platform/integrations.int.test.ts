import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressOf, checkIntegrations, probeAddress } from './integrations.ts';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

/** A loopback port nothing listens on: opened, read, closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

describe('integration checks', () => {
  it('reads host and port from a URL or host:port, never the credentials', () => {
    expect(addressOf('https://user:secret@k8s.example:6443/api')).toEqual({
      host: 'k8s.example',
      port: 6443,
    });
    expect(addressOf('http://hub.local')).toEqual({ host: 'hub.local', port: 80 });
    expect(addressOf('https://hub.local')).toEqual({ host: 'hub.local', port: 443 });
    expect(addressOf('127.0.0.1:7233')).toEqual({ host: '127.0.0.1', port: 7233 });
    expect(() => addressOf('temporal')).toThrow(/not host:port or a URL/);
  });

  it('is ok with a latency when the address accepts a connection', async () => {
    const c = await probeAddress(`127.0.0.1:${port}`);
    expect(c).toMatchObject({ status: 'ok', target: `127.0.0.1:${port}`, error: null });
    expect(c.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(c.checkedAt)).not.toBeNaN();
  });

  it('is down with the reason when nothing listens', async () => {
    const c = await probeAddress(`http://127.0.0.1:${await closedPort()}`);
    expect(c).toMatchObject({ status: 'down', latencyMs: null, error: 'ECONNREFUSED' });
  });

  it('reports disabled and unchecked components with their reason, without connecting', async () => {
    const r = await checkIntegrations({
      temporal: { kind: 'address', address: `127.0.0.1:${port}` },
      kubernetes: { kind: 'disabled', reason: 'no Kubernetes API configured' },
      huggingface_hub: { kind: 'not_checked', reason: 'the public Hub is not probed' },
      dvc: { kind: 'disabled', reason: 'no DVC remote configured' },
    });
    expect(r.temporal.status).toBe('ok');
    expect(r.kubernetes).toMatchObject({
      status: 'disabled',
      target: null,
      error: 'no Kubernetes API configured',
    });
    expect(r.huggingface_hub.status).toBe('not_checked');
    expect(r.dvc.status).toBe('disabled');
  });
});
