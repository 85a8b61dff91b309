import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { platformNodeArgs } from '@llmops/config';
import yoctoSpinner from 'yocto-spinner';
import { API_PATH, createClient } from '@llmops/client';
import { startMlflowServer, type MlflowServer } from '@llmops/integrations-mlflow';
import { startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { ensureMlflowEnv, ensurePythonEnv } from '@llmops/pyenv';
import type { Ctx, OutStream } from '../context.ts';
import { renderFields, renderTable } from '../output.ts';
import { nonNegativeInt, positiveInt, type Run } from '../program.ts';
import { llmopsHome } from '../settings.ts';

// Relative to this file, not the working directory, so `llmops up` works from anywhere in the tree.
const PLATFORM_MAIN = fileURLToPath(new URL('../../../platform/src/main.ts', import.meta.url));
const CONSOLE_BUILD = fileURLToPath(new URL('../../../web/scripts/ensure-build.mjs', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const KILL_GRACE_MS = 10_000;
const POLL_MS = 250;

interface UpOpts {
  port?: number;
  home?: string;
  timeout: number;
  logLevel?: string;
  /** false with --no-execution: serve the API only, without Temporal and the worker. */
  execution: boolean;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Copies a child stream line by line, keeping the last lines for an error message. */
function pipeLines(from: NodeJS.ReadableStream, to: OutStream, tail: string[], onLine?: (l: string) => void) {
  createInterface({ input: from }).on('line', (line) => {
    to.write(`${line}\n`);
    tail.push(line);
    if (tail.length > 20) tail.shift();
    onLine?.(line);
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await createClient({ baseUrl: url, timeoutMs: 2000 }).ready();
    return true;
  } catch {
    return false;
  }
}

/** Polls readiness until it answers, the child dies or time runs out. */
async function waitReady(
  url: () => string,
  exited: () => Exit | undefined,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) return 'exited';
    if (await answers(url())) return exited() ? 'exited' : 'ready';
    await sleep(POLL_MS);
  }
  return 'timeout';
}

/** SIGINT/SIGTERM to the CLI go to the platform; it stops cleanly, or is killed after a grace period. */
function forwardSignals(child: ChildProcess): () => void {
  let killTimer: NodeJS.Timeout | undefined;
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  const onInt = () => forward('SIGINT');
  const onTerm = () => forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (killTimer) clearTimeout(killTimer);
  };
}

function childEnv(ctx: Ctx, o: UpOpts): Record<string, string | undefined> {
  const env = { ...ctx.io.env };
  if (o.port !== undefined) env.PORT = String(o.port);
  if (o.home) env.LLMOPS_HOME = resolve(ctx.io.cwd, o.home);
  // Our own readiness polling would otherwise fill the terminal with request logs.
  env.LOG_LEVEL = o.logLevel ?? env.LOG_LEVEL ?? 'warn';
  return env;
}

/**
 * Builds the web console when its sources changed since the last build (instant otherwise), next to the
 * starting stacks and platform: the platform serves the build once it is there. A failed build is
 * reported and the platform keeps running: the API does not need the console.
 */
function buildConsole(ctx: Ctx, env: Record<string, string | undefined>): { stop(): void } {
  if (env.LLMOPS_CONSOLE_DIR || !existsSync(CONSOLE_BUILD)) return { stop: () => undefined };
  const lines: string[] = [];
  const child = spawn(process.execPath, [CONSOLE_BUILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let running = true;
  const finish = (code: number | null) => {
    if (!running) return;
    running = false;
    for (const line of lines.filter((l) => l.startsWith('console:'))) ctx.note(`${line}\n`);
    if (code !== 0)
      ctx.note(
        `warning: the web console could not be built; the API runs without it\n${lines.slice(-5).join('\n')}\n`,
      );
  };
  child.on('error', (e) => {
    lines.push(e.message);
    finish(1);
  });
  child.on('exit', (code, signal) => (signal ? (running = false) : finish(code)));
  // The build removes its half-written output when stopped.
  return { stop: () => running && child.kill('SIGTERM') };
}

function exitCodeOf(e: Exit): number {
  if (e.code !== null) return e.code;
  return 128 + (e.signal ? (constants.signals[e.signal] ?? 0) : 1);
}

function readyBanner(url: string, home: string, mlflowUrl: string | null): string {
  const token = join(home, 'admin-token');
  const fields: [string, unknown][] = [
    ['console', `${url}/`],
    ['API', `${url}${API_PATH}`],
    ['docs', `${url}${API_PATH}/docs`],
  ];
  if (mlflowUrl) fields.push(['MLflow UI', mlflowUrl]);
  if (existsSync(token)) fields.push(['admin token', token]);
  return `LLM Ops Platform is up at ${url}\n${renderFields(fields)}Stop it with Ctrl-C.\n`;
}

interface Progress {
  success(text: string): void;
  error(text: string): void;
}

/** A spinner at a terminal; plain lines in a pipe or a log file, where redrawing would leave debris. */
function progress(ctx: Ctx, text: string): Progress {
  if (!ctx.io.stderr.isTTY) {
    ctx.note(`${text}…\n`);
    return { success: (t) => ctx.note(`${t}\n`), error: (t) => ctx.note(`${t}\n`) };
  }
  const spinner = yoctoSpinner({
    text,
    stream: ctx.io.stderr as NodeJS.WriteStream,
    handleSignals: false,
  }).start();
  return { success: (t) => spinner.success(t), error: (t) => spinner.error(t) };
}

/**
 * The embedded execution stack: the project's Python environment (runtime + Temporal CLI) and a local
 * Temporal dev server whose state survives restarts in LLMOPS_HOME/temporal.db. Skipped when
 * TEMPORAL_ADDRESS points at a Temporal cluster already.
 */
async function startExecutionStack(
  ctx: Ctx,
  env: Record<string, string | undefined>,
): Promise<DevServer | null> {
  if (env.TEMPORAL_ADDRESS) return null;
  const home = llmopsHome(env, ctx.io.cwd);
  const prep = progress(
    ctx,
    existsSync(join(home, 'venv'))
      ? 'Checking the Python environment'
      : 'Preparing the Python environment (first start: a few minutes)',
  );
  const t0 = Date.now();
  let python;
  try {
    python = await ensurePythonEnv({ home, requireTorch: false, onProgress: (m) => ctx.note(`  ${m}\n`) });
  } catch (e) {
    prep.error('Python environment failed');
    throw e;
  }
  prep.success(
    `Python environment ready in ${((Date.now() - t0) / 1000).toFixed(1)}s${python.torchVersion ? ` (torch ${python.torchVersion})` : ' (no torch: training modes unavailable)'}`,
  );
  const tp = progress(ctx, 'Starting Temporal');
  const port = (await portFree(7233)) ? 7233 : undefined;
  const uiPort = (await portFree(8233)) ? 8233 : undefined;
  const dev = await startTemporalDevServer({
    cli: python.temporalCli,
    dbFile: join(home, 'temporal.db'),
    port,
    uiPort,
  }).catch((e: Error) => {
    tp.error('Temporal did not start');
    throw e;
  });
  tp.success(`Temporal at ${dev.address}${dev.uiUrl ? ` (UI ${dev.uiUrl})` : ''}`);
  env.TEMPORAL_ADDRESS = dev.address;
  return dev;
}

const FALSE_WORDS = new Set(['false', '0', 'no']);
const MLFLOW_PORT = 5000;

/** Tracking is on unless EXPERIMENT_TRACKING_ENABLED or MLFLOW_ENABLED is false (the platform's own rule). */
export function wantsLocalMlflow(env: Record<string, string | undefined>): boolean {
  const off = (v: string | undefined) => v !== undefined && FALSE_WORDS.has(v.trim().toLowerCase());
  if (off(env.EXPERIMENT_TRACKING_ENABLED) || off(env.MLFLOW_ENABLED)) return false;
  // A tracking server chosen by the user is theirs to run.
  return !env.MLFLOW_TRACKING_URI?.trim();
}

/**
 * The local MLflow server: its own Python environment (LLMOPS_HOME/mlflow-venv), data in LLMOPS_HOME/mlflow
 * (SQLite + artifacts, kept across restarts), on 127.0.0.1:5000 when free, else a free port. The platform
 * learns the URL through MLFLOW_TRACKING_URI. Skipped when tracking is off or MLFLOW_TRACKING_URI is set.
 */
async function startTrackingServer(
  ctx: Ctx,
  env: Record<string, string | undefined>,
): Promise<MlflowServer | null> {
  if (!wantsLocalMlflow(env)) return null;
  const home = llmopsHome(env, ctx.io.cwd);
  const prep = progress(
    ctx,
    existsSync(join(home, 'mlflow-venv'))
      ? 'Checking MLflow'
      : 'Preparing MLflow (first start: a few minutes)',
  );
  const t0 = Date.now();
  let mlflow;
  try {
    mlflow = await ensureMlflowEnv({ home, onProgress: (m) => ctx.note(`  ${m}\n`) });
  } catch (e) {
    prep.error('MLflow environment failed');
    throw e;
  }
  prep.success(`MLflow ${mlflow.version} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const sp = progress(ctx, 'Starting MLflow');
  const dataDir = join(home, 'mlflow');
  await mkdir(dataDir, { recursive: true });
  // Its request log would drown the platform's output: it goes to a file next to its data.
  const log = createWriteStream(join(dataDir, 'mlflow.log'), { flags: 'a' });
  const server = await startMlflowServer({
    mlflowCli: mlflow.mlflowCli,
    dataDir,
    port: (await portFree(MLFLOW_PORT)) ? MLFLOW_PORT : undefined,
    onLog: (line) => log.write(`${line}\n`),
  }).catch((e: Error) => {
    sp.error('MLflow did not start');
    log.end();
    throw e;
  });
  sp.success(`MLflow at ${server.url} (log: ${join(dataDir, 'mlflow.log')})`);
  env.MLFLOW_TRACKING_URI = server.url;
  return server;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer()
      .once('error', () => res(false))
      .listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

async function up(ctx: Ctx, o: UpOpts): Promise<number> {
  const env = childEnv(ctx, o);
  const host = env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : '127.0.0.1';
  const url = `http://${host}:${env.PORT || 8000}`;
  if (await answers(url)) {
    throw new Error(`a platform already answers at ${url}; stop it first or choose another --port`);
  }
  // The console builds next to the stacks and the platform, which serves it once it is there.
  const consoleBuild = buildConsole(ctx, env);
  // Ctrl-C while the stacks start: exit, and the exit hooks stop what was started (MLflow runs in a process
  // group of its own, so the terminal's SIGINT does not reach it).
  const early = () => {
    consoleBuild.stop();
    process.exit(130);
  };
  process.once('SIGINT', early);
  process.once('SIGTERM', early);
  // Both need only their own Python environment: prepare and start them side by side.
  const [temporal, mlflow] = await Promise.allSettled([
    o.execution ? startExecutionStack(ctx, env) : null,
    o.execution ? startTrackingServer(ctx, env) : null,
  ]).finally(() => {
    process.off('SIGINT', early);
    process.off('SIGTERM', early);
  });
  try {
    if (temporal.status === 'rejected') throw temporal.reason;
    if (mlflow.status === 'rejected') throw mlflow.reason;
    return await runPlatform(ctx, o, env, url, mlflow.value?.url ?? null);
  } finally {
    consoleBuild.stop();
    await Promise.all([
      temporal.status === 'fulfilled' ? temporal.value?.stop() : undefined,
      mlflow.status === 'fulfilled' ? mlflow.value?.stop() : undefined,
    ]);
  }
}

async function runPlatform(
  ctx: Ctx,
  o: UpOpts,
  env: Record<string, string | undefined>,
  startUrl: string,
  mlflowUrl: string | null,
): Promise<number> {
  let url = startUrl;
  const child = spawn(process.execPath, [...platformNodeArgs(env), '--import', TSX_LOADER, PLATFORM_MAIN], {
    cwd: ctx.io.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((res) => {
    child.on('exit', (code, signal) => res((exit = { code, signal })));
    child.on('error', (e) => {
      ctx.note(`error: cannot start the platform: ${e.message}\n`);
      res((exit = { code: 1, signal: null }));
    });
  });
  const errTail: string[] = [];
  pipeLines(child.stdout!, ctx.io.stdout, [], (line) => {
    // The platform knows best where it listens (e.g. PORT=0 picks a free port).
    const m = /listening on (https?:\/\/\S+)/.exec(line);
    if (m?.[1]) url = m[1];
  });
  pipeLines(child.stderr!, ctx.io.stderr, errTail);
  const stopForwarding = forwardSignals(child);
  try {
    const spinner = progress(ctx, `Starting the platform (${url})`);
    const t0 = Date.now();
    const state = await waitReady(
      () => url,
      () => exit,
      o.timeout * 1000,
    );
    if (state !== 'ready') {
      spinner.error(
        state === 'timeout' ? `Not ready after ${o.timeout}s` : 'The platform stopped during start',
      );
      if (state === 'timeout') child.kill('SIGTERM');
      const e = await exited;
      const last = errTail.filter((l) => l.trim()).at(-1);
      ctx.note(
        `error: the platform ${state === 'timeout' ? 'did not become ready' : `exited with code ${exitCodeOf(e)} before it was ready`}${last ? `: ${last}` : ''}\n`,
      );
      return e.code && e.code !== 0 ? e.code : 1;
    }
    spinner.success(`Ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    ctx.out(readyBanner(url, llmopsHome(env, ctx.io.cwd), mlflowUrl));
    return exitCodeOf(await exited);
  } finally {
    stopForwarding();
  }
}

export function registerPlatform(program: Command, run: Run): void {
  program
    .command('up')
    .description('Start the platform on this machine and wait until it is ready; Ctrl-C stops it')
    .option('--port <port>', 'HTTP port (sets PORT; default 8000)', nonNegativeInt)
    .option('--home <dir>', 'data directory (sets LLMOPS_HOME; default ./.llmops)')
    .option('--timeout <seconds>', 'give up when not ready after this long', positiveInt, 120)
    .option('--log-level <level>', 'platform log level (sets LOG_LEVEL; default warn)')
    .option(
      '--no-execution',
      'serve the API only: no Python environments, no Temporal, no local MLflow; jobs are stored but not run',
    )
    .action(run<UpOpts>((ctx, o) => up(ctx, o)));

  program
    .command('health')
    .description('Platform health: database, GPU and version')
    .action(
      run(async (ctx) => {
        const h = await ctx.client.health();
        ctx.emit(
          h,
          () =>
            `${h.status} · version ${h.version} · up ${h.uptimeSeconds}s\n` +
            renderTable(
              ['check', 'status', 'latency ms', 'error'],
              Object.entries(h.checks).map(([name, c]) => [name, c.status, c.latencyMs, c.error]),
            ),
        );
        return h.status === 'ok' ? 0 : 1;
      }),
    );
}
