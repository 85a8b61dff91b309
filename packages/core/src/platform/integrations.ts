import { connect } from 'node:net';

export type IntegrationCheckStatus = 'ok' | 'down' | 'disabled' | 'not_checked';

export interface IntegrationCheck {
  status: IntegrationCheckStatus;
  target: string | null;
  latencyMs: number | null;
  error: string | null;
  checkedAt: string;
}

/** What to check for one component: an address to connect to, or why there is none. */
export type IntegrationTarget =
  | { kind: 'address'; address: string }
  | { kind: 'disabled'; reason: string }
  | { kind: 'not_checked'; reason: string };

export interface IntegrationTargets {
  temporal: IntegrationTarget;
  kubernetes: IntegrationTarget;
  huggingface_hub: IntegrationTarget;
  dvc: IntegrationTarget;
}

/** host:port of an http(s) URL or of a bare `host:port`; credentials and paths never leave this function. */
export function addressOf(target: string): { host: string; port: number } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const url = new URL(target);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
  }
  const m = /^(.*):(\d+)$/.exec(target);
  if (!m) throw new Error(`'${target}' is not host:port or a URL`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Whether a TCP connection to the address opens within `timeoutMs`, and how long it took. */
export async function probeAddress(address: string, timeoutMs = 2000): Promise<IntegrationCheck> {
  const checkedAt = new Date().toISOString();
  let host: string;
  let port: number;
  try {
    ({ host, port } = addressOf(address));
  } catch (e) {
    return { status: 'down', target: address, latencyMs: null, error: (e as Error).message, checkedAt };
  }
  const target = `${host}:${port}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (error: string | null) => {
      socket.destroy();
      clearTimeout(timer);
      resolve({
        status: error ? 'down' : 'ok',
        target,
        latencyMs: error ? null : Math.round((performance.now() - started) * 10) / 10,
        error,
        checkedAt,
      });
    };
    const timer = setTimeout(() => done(`no connection within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** Checks every component side by side; a component without an address says why. */
export async function checkIntegrations(
  targets: IntegrationTargets,
  timeoutMs = 2000,
): Promise<Record<keyof IntegrationTargets, IntegrationCheck>> {
  const one = async (t: IntegrationTarget): Promise<IntegrationCheck> =>
    t.kind === 'address'
      ? probeAddress(t.address, timeoutMs)
      : {
          status: t.kind,
          target: null,
          latencyMs: null,
          error: t.reason,
          checkedAt: new Date().toISOString(),
        };
  const [temporal, kubernetes, huggingface_hub, dvc] = await Promise.all([
    one(targets.temporal),
    one(targets.kubernetes),
    one(targets.huggingface_hub),
    one(targets.dvc),
  ]);
  return { temporal, kubernetes, huggingface_hub, dvc };
}
