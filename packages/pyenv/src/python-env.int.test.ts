import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePythonEnv, findRepoRoot, TORCH_FIX } from './index.ts';

// A first install downloads ~45 pinned packages into <repo>/.cache/pip; later runs install from that cache.
const INSTALL_MS = 15 * 60_000;
const torchOnSystem =
  spawnSync(process.env.LLMOPS_PYTHON ?? '/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' })
    .status === 0;

describe('ensurePythonEnv', () => {
  let home: string;
  const progress: string[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'llmops-pyenv-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('finds the repository root from anywhere inside it', () => {
    const root = findRepoRoot();
    expect(existsSync(join(root, 'runtimes', 'python', 'requirements.txt'))).toBe(true);
    expect(findRepoRoot(join(root, 'packages', 'pyenv', 'src'))).toBe(root);
    expect(() => findRepoRoot(tmpdir())).toThrow(/no repository root/);
  });

  it(
    'creates the venv with the runtime and a working Temporal CLI, then returns from the stamp in < 2 s',
    async () => {
      const env = await ensurePythonEnv({ home, requireTorch: false, onProgress: (m) => progress.push(m) });
      expect(env.venvDir).toBe(join(home, 'venv'));
      expect(progress.some((m) => /installing \d+ pinned Python packages/.test(m))).toBe(true);

      const temporal = spawnSync(env.temporalCli, ['--version'], { encoding: 'utf8' });
      expect(temporal.status).toBe(0);
      expect(temporal.stdout).toMatch(/temporal version 1\.9\.1/);

      // The synthetic mode runs without torch, through the command the platform will use.
      const spec = JSON.parse(
        spawnSync(
          env.python,
          [
            '-c',
            `import json; from llmops_runtime.testdata import make_spec; ` +
              `print(json.dumps(make_spec('synthetic', ${JSON.stringify(join(home, 'job'))}, 'unused.jsonl', synthetic={'steps': 3, 'step_ms': 0})))`,
          ],
          { encoding: 'utf8' },
        ).stdout,
      ) as Record<string, unknown>;
      const specPath = join(home, 'spec.json');
      await writeFile(specPath, JSON.stringify(spec));
      const [cmd, ...args] = env.runtimeCommand;
      const runtime = spawnSync(cmd!, args, {
        encoding: 'utf8',
        env: { ...process.env, LLMOPS_SPEC: specPath },
      });
      expect(runtime.status).toBe(0);
      const last = JSON.parse(runtime.stdout.trim().split('\n').pop()!) as { type: string; status: string };
      expect(last).toMatchObject({ type: 'result', status: 'succeeded' });

      const began = performance.now();
      const again = await ensurePythonEnv({ home, requireTorch: false });
      expect(performance.now() - began).toBeLessThan(2000);
      expect(again).toEqual(env);
    },
    INSTALL_MS,
  );

  it(
    'reinstalls when the inputs change (the stamp no longer matches)',
    async () => {
      const stampPath = join(home, 'venv', '.llmops-stamp.json');
      const stamp = JSON.parse(await readFile(stampPath, 'utf8')) as { hash: string };
      await writeFile(stampPath, JSON.stringify({ ...stamp, hash: 'stale' }));
      const seen: string[] = [];
      await ensurePythonEnv({ home, requireTorch: false, onProgress: (m) => seen.push(m) });
      expect(seen.some((m) => m.includes('installing'))).toBe(true);
      expect(JSON.parse(await readFile(stampPath, 'utf8'))).toMatchObject({ hash: stamp.hash });
    },
    INSTALL_MS,
  );

  // One test for both machines: with Debian's torch the venv reports its version; without it the call
  // fails with the exact fix. Which branch runs depends on the machine, never on a skip.
  it('with torch required, reports the torch version the venv sees, or fails with the exact fix when absent', async () => {
    if (torchOnSystem) {
      const env = await ensurePythonEnv({ home });
      expect(env.torchVersion).toMatch(/^\d+\.\d+/);
    } else {
      await expect(ensurePythonEnv({ home })).rejects.toThrow(TORCH_FIX);
    }
  }, 120_000);

  it('names the missing base interpreter and the packages that provide it', async () => {
    const other = await mkdtemp(join(tmpdir(), 'llmops-pyenv-'));
    try {
      await expect(
        ensurePythonEnv({ home: other, python: join(other, 'no-python'), requireTorch: false }),
      ).rejects.toThrow(/no-python not found: install Debian's python3 and python3-venv/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
