import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, isApiError } from '@llmops/client';
import { createMlflowClient, isRetryable } from '@llmops/integrations-mlflow';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { ensureMlflowEnv } from '@llmops/pyenv';

const LAUNCHER = fileURLToPath(new URL('../bin/llmops.mjs', import.meta.url));
const TEST_HOME =
  process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../.llmops-test', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_res, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('llmops up', () => {
  let child: ChildProcess | undefined;
  let home: string | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('starts the platform, waits until it is ready, and stops it on SIGTERM', async () => {
    home = await mkdtemp(join(tmpdir(), 'llmops-up-'));
    const port = await freePort();
    // A PostgreSQL URL from the test environment would make the platform share that database;
    // this test wants the embedded one in its own home, which also writes a fresh admin token.
    const { DATABASE_URL: _db, LLMOPS_BOOTSTRAP_TOKEN: _t, ...env } = process.env;
    // Started from the temp directory: the CLI must find the platform relative to itself.
    child = spawn(
      process.execPath,
      [LAUNCHER, 'up', '--no-execution', '--port', String(port), '--home', home],
      {
        cwd: home,
        env: { ...env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child!.on('exit', (code) => res(code)));

    const ready = new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('LLM Ops Platform is up at')) resolve();
      });
      void exited.then((code) => reject(new Error(`llmops up exited with ${code}: ${stderr}`)));
    });
    await within(ready, 90_000, 'the ready banner');
    const url = `http://127.0.0.1:${port}`;
    expect(stdout).toContain(`LLM Ops Platform is up at ${url}`);
    expect(stdout).toMatch(new RegExp(`^docs: +${url}/llm-ops/v1/docs$`, 'm'));
    expect(stderr).toMatch(/^Ready in \d+\.\ds$/m);

    const token = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
    const me = await createClient({ baseUrl: url, token }).whoami();
    expect(me).toMatchObject({ userName: 'admin', orgAdmin: true });

    child.kill('SIGTERM');
    const code = await within(exited, 20_000, 'llmops up to exit');
    expect(code).toBe(0);
    const after = await createClient({ baseUrl: url, timeoutMs: 2000 })
      .health()
      .catch((e: unknown) => e);
    expect(isApiError(after) && after.code).toBe('UNAVAILABLE');
  }, 120_000);

  it('exits non-zero with the platform’s own error when it dies during start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmops-up-bad-'));
    try {
      const { DATABASE_URL: _db, ...env } = process.env;
      const bad = spawn(
        process.execPath,
        [LAUNCHER, 'up', '--no-execution', '--port', String(await freePort()), '--home', dir],
        {
          cwd: dir,
          env: { ...env, CI: 'true', ENVIRONMENT: 'bogus' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      bad.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await within(new Promise((res) => bad.on('exit', res)), 60_000, 'llmops up to fail');
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /^error: the platform exited with code 1 before it was ready: .*ENVIRONMENT: expected one of dev, stg, prod/m,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('starts a local MLflow with the platform, prints its UI, keeps its data across starts, stops it on SIGTERM', async () => {
    // The mlflow venv of the test cache, shared by a link (same lock, same stamp: no install here).
    const mlflowEnv = await ensureMlflowEnv({ home: TEST_HOME });
    const upHome = await mkdtemp(join(tmpdir(), 'llmops-up-mlflow-'));
    await symlink(mlflowEnv.venvDir, join(upHome, 'mlflow-venv'));
    // An existing Temporal (TEMPORAL_ADDRESS) and no in-process worker: this test is about MLflow only.
    let temporal: DevServer | undefined;
    try {
      temporal = await startTemporalDevServer({
        cli: await resolveTemporalCli({ home: TEST_HOME, dev: true }),
        headless: true,
      });
      const { DATABASE_URL: _db, LLMOPS_BOOTSTRAP_TOKEN: _t, MLFLOW_TRACKING_URI: _m, ...env } = process.env;
      const start = async () => {
        const proc = spawn(
          process.execPath,
          [LAUNCHER, 'up', '--port', String(await freePort()), '--home', upHome],
          {
            cwd: upHome,
            env: { ...env, CI: 'true', TEMPORAL_ADDRESS: temporal!.address, LLMOPS_RUN_WORKER: 'false' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
        await within(
          new Promise<void>((resolve, reject) => {
            proc.stdout.on('data', (d: Buffer) => {
              stdout += d.toString();
              if (stdout.includes('LLM Ops Platform is up at')) resolve();
            });
            void exited.then((code) => reject(new Error(`llmops up exited with ${code}: ${stderr}`)));
          }),
          150_000,
          'the ready banner',
        );
        const m = /^MLflow UI: +(http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
        expect(m, stdout).not.toBeNull();
        return { proc, exited, mlflowUrl: m![1]!, stderr: () => stderr };
      };

      const first = await start();
      expect(first.stderr()).toMatch(/^MLflow 3\.\d+\.\d+ ready in \d+\.\ds$/m);
      expect(first.stderr()).toMatch(/^MLflow at http:\/\/127\.0\.0\.1:\d+ /m);
      const mlflow = createMlflowClient({ baseUrl: first.mlflowUrl, timeoutMs: 5000 });
      expect((await mlflow.health()).version).toBe(mlflowEnv.version);
      const exp = await mlflow.ensureExperiment('kept-across-starts');
      expect(existsSync(join(upHome, 'mlflow', 'mlflow.db'))).toBe(true);

      first.proc.kill('SIGTERM');
      expect(await within(first.exited, 30_000, 'llmops up to exit')).toBe(0);
      const down = await mlflow.health().catch((e: unknown) => e);
      expect(isRetryable(down)).toBe(true);

      // A second start reuses the environment (no install) and the data.
      const second = await start();
      expect(second.stderr()).not.toMatch(/installing MLflow/);
      const again = createMlflowClient({ baseUrl: second.mlflowUrl, timeoutMs: 5000 });
      expect((await again.getExperimentByName('kept-across-starts'))?.experiment_id).toBe(exp.experiment_id);
      second.proc.kill('SIGINT');
      expect(await within(second.exited, 30_000, 'llmops up to exit')).toBe(0);
      expect(await again.health().catch((e: unknown) => isRetryable(e))).toBe(true);
    } finally {
      await temporal?.stop();
      await rm(upHome, { recursive: true, force: true });
    }
  }, 600_000);
});
