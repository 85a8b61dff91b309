import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from './lock.ts';
import { DEFAULT_BASE_PYTHON, findRepoRoot } from './python-env.ts';
import { run, tail } from './run.ts';

/** The committed closure of the MLflow server: every package pinned, installed with --no-deps. */
export const MLFLOW_LOCK_FILE = fileURLToPath(new URL('../requirements/mlflow.lock.txt', import.meta.url));
const STAMP = '.llmops-stamp.json';
/** Bumped when the way the venv is built changes, so existing venvs are rebuilt. */
const RECIPE = 1;

export interface MlflowEnv {
  venvDir: string;
  python: string;
  /** The `mlflow` command of the venv. */
  mlflowCli: string;
  /** The pinned MLflow version, e.g. "3.17.2". */
  version: string;
}

export interface EnsureMlflowEnvOptions {
  /** LLMOPS_HOME: the venv lives in <home>/mlflow-venv. */
  home: string;
  onProgress?: (msg: string) => void;
  repoRoot?: string;
  /** Base interpreter (default $LLMOPS_PYTHON, else Debian's /usr/bin/python3). */
  python?: string;
  /** Another lock file (tests). */
  lockFile?: string;
}

interface Stamp {
  hash: string;
  version: string;
}

/** The pinned mlflow version of a lock file; throws when the file pins none. */
export function mlflowVersionOf(lockText: string): string {
  const m = /^mlflow==(\S+)\s*$/m.exec(lockText);
  if (!m?.[1]) throw new Error('the MLflow lock file pins no mlflow==<version>');
  return m[1];
}

function requirementLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * Creates (or reuses) <home>/mlflow-venv: a plain venv (no system site packages, so MLflow's dependencies never
 * meet the training runtime's) with the committed lock installed with --no-deps. A stamp holding a hash of the
 * inputs makes a repeated call a few file reads; a lock directory keeps concurrent callers from racing.
 */
export async function ensureMlflowEnv(opts: EnsureMlflowEnvOptions): Promise<MlflowEnv> {
  const progress = opts.onProgress ?? (() => {});
  const lockFile = opts.lockFile ?? MLFLOW_LOCK_FILE;
  const basePython = opts.python ?? process.env.LLMOPS_PYTHON ?? DEFAULT_BASE_PYTHON;
  const home = resolve(opts.home);
  const venvDir = join(home, 'mlflow-venv');
  const lockText = await readFile(lockFile, 'utf8');
  const env: MlflowEnv = {
    venvDir,
    python: join(venvDir, 'bin', 'python'),
    mlflowCli: join(venvDir, 'bin', 'mlflow'),
    version: mlflowVersionOf(lockText),
  };
  const hash = createHash('sha256')
    .update(`recipe ${RECIPE}\nbase ${basePython}\n`)
    .update(lockText)
    .digest('hex');

  const fresh = async (): Promise<boolean> => {
    try {
      const stamp = JSON.parse(await readFile(join(venvDir, STAMP), 'utf8')) as Stamp;
      return stamp.hash === hash && existsSync(env.mlflowCli);
    } catch {
      return false;
    }
  };
  if (await fresh()) return env;
  await mkdir(home, { recursive: true });
  await withLock(join(home, 'mlflow-venv.lock'), progress, async () => {
    // Another process may have finished the same install while we waited for the lock.
    if (!(await fresh()))
      await install(env, { lockFile, lockText, basePython, hash, progress, repo: opts.repoRoot });
  });
  return env;
}

async function install(
  env: MlflowEnv,
  ctx: {
    lockFile: string;
    lockText: string;
    basePython: string;
    hash: string;
    progress: (m: string) => void;
    repo: string | undefined;
  },
): Promise<void> {
  const { venvDir } = env;
  const repo = ctx.repo ?? findRepoRoot();
  const pipEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PIP_CACHE_DIR: join(repo, '.cache', 'pip'),
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PYTHONNOUSERSITE: '1',
  };
  if (!existsSync(ctx.basePython))
    throw new Error(
      `base Python ${ctx.basePython} not found: install Debian's python3 and python3-venv ` +
        '(apt-get install -y python3 python3-venv), or pass another interpreter (LLMOPS_PYTHON)',
    );
  // Always from scratch: a package dropped from the lock must not linger from an earlier install.
  ctx.progress(`creating the MLflow environment in ${venvDir}`);
  await rm(venvDir, { recursive: true, force: true });
  const venv = await run(ctx.basePython, ['-m', 'venv', venvDir]);
  if (venv.code !== 0)
    throw new Error(
      `creating the MLflow venv failed (exit ${venv.code}); on Debian: apt-get install -y python3-venv\n${tail(venv.output)}`,
    );

  const total = requirementLines(ctx.lockText).length;
  ctx.progress(`installing MLflow ${env.version}: ${total} pinned packages (first time: about 2 minutes)`);
  let seen = 0;
  let lastReport = Date.now();
  const onLine = (line: string) => {
    const m = /^(?:Collecting|Processing|Requirement already satisfied:) (\S+)/.exec(line);
    if (m) {
      seen++;
      // One line every few seconds is enough to show it is moving.
      if (Date.now() - lastReport > 3000 || seen === total) {
        lastReport = Date.now();
        ctx.progress(`  fetched ${seen}/${total} (${m[1]})`);
      }
    } else if (line.startsWith('Installing collected packages')) {
      ctx.progress(`  unpacking ${total} packages into ${venvDir}`);
    }
  };
  const pip = await run(env.python, ['-m', 'pip', 'install', '--no-deps', '-r', ctx.lockFile], {
    env: pipEnv,
    cwd: repo,
    timeoutMs: 30 * 60_000,
    onLine,
  });
  if (pip.code !== 0)
    throw new Error(`pip install -r ${ctx.lockFile} failed (exit ${pip.code}):\n${tail(pip.output)}`);

  // The lock must be a complete closure: pip check names any dependency it misses.
  const check = await run(env.python, ['-m', 'pip', 'check'], { env: pipEnv, timeoutMs: 120_000 });
  if (check.code !== 0)
    throw new Error(`the MLflow lock file is not a complete closure (pip check):\n${tail(check.output)}`);

  ctx.progress('checking the mlflow command');
  const version = await run(env.mlflowCli, ['--version'], { env: pipEnv, timeoutMs: 120_000 }).catch(
    (e: Error) => ({ code: -1, output: e.message }),
  );
  if (version.code !== 0 || !version.output.includes(env.version))
    throw new Error(`${env.mlflowCli} --version failed (exit ${version.code}):\n${tail(version.output)}`);
  const stamp: Stamp = { hash: ctx.hash, version: env.version };
  await writeFile(join(venvDir, STAMP), JSON.stringify(stamp));
}
