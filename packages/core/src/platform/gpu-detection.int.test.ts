import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectGpu, runCommand } from './gpu-detection.ts';

// A directory standing in for PATH, holding a fake nvidia-smi shell script per test.
const bin = mkdtempSync(join(tmpdir(), 'llmops-gpu-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** An environment whose PATH is an empty directory of its own. */
function pathDir(name: string): NodeJS.ProcessEnv {
  const path = join(bin, name);
  mkdirSync(path);
  return { PATH: path };
}

/** Like pathDir, with an executable nvidia-smi running `script`. */
function withNvidiaSmi(name: string, script: string): NodeJS.ProcessEnv {
  const env = pathDir(name);
  const file = join(env.PATH!, 'nvidia-smi');
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return env;
}

describe.skipIf(process.platform === 'win32')('detectGpu with real processes', () => {
  it('finds the GPUs printed by nvidia-smi', async () => {
    const env = withNvidiaSmi(
      'two',
      `[ "$1 $2" = "--query-gpu=name,memory.total --format=csv,noheader" ] || exit 2
printf 'NVIDIA H100 80GB HBM3, 81559 MiB\\nNVIDIA H100 80GB HBM3, 81559 MiB\\n'`,
    );
    expect(await detectGpu({ env })).toEqual({
      state: 'present',
      count: 2,
      models: ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3'],
      reason: 'nvidia-smi found 2 GPUs: NVIDIA H100 80GB HBM3, NVIDIA H100 80GB HBM3',
    });
  });

  it('reports absent when nvidia-smi is not on PATH', async () => {
    const env = pathDir('none');
    expect(await detectGpu({ env })).toMatchObject({
      state: 'absent',
      reason: 'nvidia-smi is not installed',
    });
  });

  it('reports unknown with the driver message on a non-zero exit', async () => {
    const env = withNvidiaSmi('broken', 'echo "NVIDIA-SMI has failed" >&2\nexit 9');
    expect(await detectGpu({ env })).toMatchObject({
      state: 'unknown',
      reason: 'nvidia-smi exited with code 9: NVIDIA-SMI has failed',
    });
  });

  it('reports unknown when nvidia-smi hangs past the timeout', async () => {
    const env = withNvidiaSmi('hang', 'exec sleep 10');
    env.PATH = `${env.PATH}:/usr/bin:/bin`;
    const started = Date.now();
    expect(await detectGpu({ env, timeoutMs: 300 })).toMatchObject({
      state: 'unknown',
      reason: 'nvidia-smi did not answer in time',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('runCommand returns the exit code and output of a finished process', async () => {
    const result = await runCommand(process.execPath, ['-e', 'process.stdout.write("out"); process.exit(3)']);
    expect(result).toEqual({ code: 3, stdout: 'out', stderr: '' });
  });
});
