import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMlflowClient,
  startMlflowServer,
  type MlflowApi,
  type MlflowServer,
} from '@llmops/integrations-mlflow';
import { ensureMlflowEnv } from '@llmops/pyenv';

/** The test cache every int test shares (LLMOPS_TEST_HOME wins): the mlflow venv is installed there once. */
export function testHome(): string {
  return process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../.llmops-test', import.meta.url));
}

export interface TestMlflow {
  url: string;
  port: number;
  /** A directory of its own (mlflow.db and artifacts/), removed by stop(). */
  dataDir: string;
  /** An adapter with a short timeout, for assertions and setup. */
  client: MlflowApi;
  /** Stops the server (process group) and deletes its data. */
  stop(): Promise<void>;
  /** Stops the server, keeping its data; `resume()` starts it again on the same port. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** halt(), wait `downMs` (default 0), resume(): every experiment, run and artifact is still there. */
  restart(opts?: { downMs?: number }): Promise<void>;
  /** The server's last output lines, for failure messages. */
  logTail(): string[];
}

/** A real MLflow server on a free loopback port in a temp dir (the mlflow venv is installed on first use). */
export async function startTestMlflow(opts: { timeoutMs?: number } = {}): Promise<TestMlflow> {
  const env = await ensureMlflowEnv({ home: testHome() });
  const dataDir = await mkdtemp(join(tmpdir(), 'llmops-mlflow-'));
  const lines: string[] = [];
  const onLog = (line: string) => {
    lines.push(line);
    if (lines.length > 50) lines.shift();
  };
  let server: MlflowServer | null;
  try {
    server = await startMlflowServer({ mlflowCli: env.mlflowCli, dataDir, onLog });
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { url, port } = server;
  const halt = async () => {
    await server?.stop();
    server = null;
  };
  const resume = async () => {
    server ??= await startMlflowServer({ mlflowCli: env.mlflowCli, dataDir, port, onLog });
  };
  return {
    url,
    port,
    dataDir,
    client: createMlflowClient({ baseUrl: url, timeoutMs: opts.timeoutMs ?? 10_000 }),
    halt,
    resume,
    async restart(o = {}) {
      await halt();
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await resume();
    },
    async stop() {
      await halt();
      await rm(dataDir, { recursive: true, force: true });
    },
    logTail: () => [...lines],
  };
}
