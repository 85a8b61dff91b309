import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface StartMlflowServerOptions {
  /** The `mlflow` command (from ensureMlflowEnv in @llmops/pyenv). */
  mlflowCli: string;
  /** Holds mlflow.db (SQLite backend and registry) and artifacts/; reused by the next start. */
  dataDir: string;
  /** Default 127.0.0.1. The server's host check then accepts only loopback Host headers. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Every line the server writes (stdout and stderr). */
  onLog?: (line: string) => void;
  /** Time to wait for GET /health (default 120 s; a first start creates the database). */
  readyTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL on stop (default 10 s). */
  stopGraceMs?: number;
}

export interface MlflowServer {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM to the whole process group (uvicorn and job workers included), SIGKILL after the grace period. */
  stop(): Promise<void>;
}

const LOG_TAIL = 30;

/** A free TCP port on the host, chosen by the OS. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer()
      .once('error', () => res(false))
      .listen(port, host, () => srv.close(() => res(true)));
  });
}

/** The argv of `mlflow server` for a data directory (SQLite backend, proxied artifacts, one worker). */
export function mlflowServerArgs(dataDir: string, host: string, port: number): string[] {
  const dir = resolve(dataDir);
  return [
    'server',
    '--backend-store-uri',
    `sqlite:///${join(dir, 'mlflow.db')}`,
    '--artifacts-destination',
    join(dir, 'artifacts'),
    '--serve-artifacts',
    '--host',
    host,
    '--port',
    String(port),
    '--workers',
    '1',
  ];
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts `mlflow server` in its own process group and resolves once GET /health answers. Starting again on the
 * same dataDir (and port) finds every experiment, run, model and artifact of the previous start.
 */
export async function startMlflowServer(opts: StartMlflowServerOptions): Promise<MlflowServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const grace = opts.stopGraceMs ?? 10_000;
  const dataDir = resolve(opts.dataDir);
  await mkdir(join(dataDir, 'artifacts'), { recursive: true });
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${port}`;
  // Something else answering on the port would pass the readiness check: refuse before starting.
  if (opts.port !== undefined && !(await portFree(host, port)))
    throw new Error(`mlflow server cannot start on ${url}: port ${port} is in use by another process`);

  // The server runs in dataDir: a relative command path means relative to our working directory.
  const cli = opts.mlflowCli.includes('/') ? resolve(opts.mlflowCli) : opts.mlflowCli;
  const child = spawn(cli, mlflowServerArgs(dataDir, host, port), {
    cwd: dataDir,
    // Its own process group, so stop() reaches the uvicorn worker and the job runner too.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      // The job runner (GenAI scorers, trace rollups) is not used by the platform; without it the server
      // starts in half the time with 2 processes instead of 10.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: process.env.MLFLOW_SERVER_ENABLE_JOB_EXECUTION ?? 'false',
    },
  });
  const logTail: string[] = [];
  const onLine = (line: string) => {
    logTail.push(line);
    if (logTail.length > LOG_TAIL) logTail.shift();
    opts.onLog?.(line);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);

  let exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exit ??= { code, signal };
      res();
    });
    child.once('error', (error) => {
      exit ??= { code: null, signal: null, error };
      res();
    });
  });

  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const groupAlive = () => {
    if (child.pid === undefined) return false;
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  // Our process exiting without stop() (process.exit, a crash) must not leave the group running.
  const onExit = () => killGroup('SIGTERM');
  process.on('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', onExit);
      killGroup('SIGTERM');
      const deadline = Date.now() + grace;
      // The leader may exit before its workers: wait for the whole group, not just the child.
      while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (groupAlive()) killGroup('SIGKILL');
      while (groupAlive()) await new Promise((r) => setTimeout(r, 50));
      if (child.pid !== undefined && !exit) await exited;
    })());

  const lastLines = () => (logTail.length ? `\n${logTail.join('\n')}` : ' (no output)');
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exit) {
      await stop();
      const why = exit.error
        ? `could not run ${opts.mlflowCli}: ${exit.error.message}`
        : `exited with ${exit.signal ?? `code ${exit.code}`} before it was ready`;
      throw new Error(`mlflow server on ${url} ${why}; last output:${lastLines()}`);
    }
    if (await healthy(url)) {
      if (!exit) break;
      continue;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `mlflow server on ${url} was not ready within ${Math.round(readyTimeoutMs / 1000)} s; last output:${lastLines()}`,
      );
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
  }
  return { url, port, pid: child.pid!, stop };
}
