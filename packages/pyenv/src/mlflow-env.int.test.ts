import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureMlflowEnv, MLFLOW_LOCK_FILE, mlflowVersionOf } from './index.ts';

// The test cache every int test shares (a first install takes 1–2 minutes; later ones are instant).
const HOME = process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../.llmops-test', import.meta.url));
const INSTALL_MS = 15 * 60_000;
const lockLines = () =>
  readFileSync(MLFLOW_LOCK_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#')).length;

describe('ensureMlflowEnv', () => {
  it(
    'installs the pinned MLflow in its own venv without system site packages, then answers from the stamp',
    async () => {
      const progress: string[] = [];
      const env = await ensureMlflowEnv({ home: HOME, onProgress: (m) => progress.push(m) });
      const pinned = mlflowVersionOf(await readFile(MLFLOW_LOCK_FILE, 'utf8'));
      expect(env).toMatchObject({ venvDir: join(HOME, 'mlflow-venv'), version: pinned });
      const version = spawnSync(env.mlflowCli, ['--version'], { encoding: 'utf8' });
      expect(version.stdout).toContain(`version ${pinned}`);
      const cfg = await readFile(join(env.venvDir, 'pyvenv.cfg'), 'utf8');
      expect(cfg).toMatch(/include-system-site-packages = false/);

      const began = performance.now();
      const again = await ensureMlflowEnv({ home: HOME, onProgress: (m) => progress.push(`again: ${m}`) });
      expect(performance.now() - began).toBeLessThan(2000);
      expect(again).toEqual(env);
      expect(progress.filter((m) => m.startsWith('again:'))).toEqual([]);
    },
    INSTALL_MS,
  );

  it(
    'rebuilds a venv whose stamp no longer matches from scratch, reporting progress',
    async () => {
      const home = await mkdtemp(join(tmpdir(), 'llmops-mlflow-env-'));
      try {
        // What an install from an older lock leaves behind: a stamp with another hash and a stray package.
        const venvDir = join(home, 'mlflow-venv');
        await mkdir(venvDir, { recursive: true });
        await writeFile(
          join(venvDir, '.llmops-stamp.json'),
          JSON.stringify({ hash: 'older-lock', version: '3.0.0' }),
        );
        await writeFile(join(venvDir, 'stray-package.txt'), 'from the old lock');
        const progress: string[] = [];
        const env = await ensureMlflowEnv({ home, onProgress: (m) => progress.push(m) });
        expect(existsSync(join(venvDir, 'stray-package.txt'))).toBe(false);
        expect(progress[0]).toBe(`creating the MLflow environment in ${venvDir}`);
        expect(progress).toContain(
          `installing MLflow ${env.version}: ${lockLines()} pinned packages (first time: about 2 minutes)`,
        );
        expect(progress.some((m) => /^ {2}fetched \d+\/\d+ \(/.test(m))).toBe(true);
        expect(spawnSync(env.mlflowCli, ['--version'], { encoding: 'utf8' }).stdout).toContain(env.version);
        expect(existsSync(join(home, 'mlflow-venv.lock'))).toBe(false);
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },
    INSTALL_MS,
  );

  it('names the missing base interpreter and changes nothing', async () => {
    const other = await mkdtemp(join(tmpdir(), 'llmops-mlflow-env-'));
    try {
      await expect(ensureMlflowEnv({ home: other, python: join(other, 'no-python') })).rejects.toThrow(
        /no-python not found: install Debian's python3 and python3-venv/,
      );
      expect(await readdir(other)).toEqual([]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
