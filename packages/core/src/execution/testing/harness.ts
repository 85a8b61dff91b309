import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeEvent, RuntimeSpec } from '@llmops/spec';
import type { ExecutionObserver } from '../executor.ts';
import { createLocalProcessExecutor, type LocalProcessExecutorOptions } from '../local-process-executor.ts';

export const FAKE_RUNTIME = fileURLToPath(new URL('./fake-runtime.mjs', import.meta.url));

export async function makeRunsDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'llmops-runs-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** An executor running the fake runtime with the given FAKE_* behaviour. */
export function fakeExecutor(
  runsDir: string,
  env: Record<string, string> = {},
  extra: Partial<LocalProcessExecutorOptions> = {},
) {
  return createLocalProcessExecutor({
    runsDir,
    command: [process.execPath, FAKE_RUNTIME],
    env,
    stopGraceMs: 2_000,
    pollIntervalMs: 250,
    ...extra,
  });
}

export function syntheticSpec(
  jobId: string,
  attempt: number,
  steps = 5,
  stepMs = 10,
  everyN = 2,
): RuntimeSpec {
  return {
    job_id: jobId,
    attempt,
    mode: 'synthetic',
    job_type: 'SFT',
    model: { family: 'llama', base_model_path: null, init_config: null, tokenizer_path: null },
    dataset: { path: 'unused.jsonl', type: 'sft_pair', sha256: null },
    hyperparams: {
      lr: 0.001,
      batch_size: 1,
      num_epochs: 1,
      max_seq_len: 64,
      precision: 'bf16',
      max_steps: steps,
      seed: 0,
    },
    method: 'full',
    lora: null,
    dpo: null,
    checkpoint: { dir: `ckpt/${jobId}`, every_n_steps: everyN, resume_from: null, keep_last: 2 },
    output: { dir: `out/${jobId}`, artifact_name: 'model', save_format: 'safetensors' },
    use_gpu: false,
    synthetic: { steps, step_ms: stepMs },
  };
}

export interface Recorded extends ExecutionObserver {
  events: RuntimeEvent[];
  logs: { line: string; stream: 'stdout' | 'stderr' }[];
}

export function recorder(): Recorded {
  const events: RuntimeEvent[] = [];
  const logs: Recorded['logs'] = [];
  return {
    events,
    logs,
    onEvent: (e) => void events.push(e),
    onLog: (line, stream) => void logs.push({ line, stream }),
  };
}

export async function pidsIn(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

/** Gone: no such process. A zombie is reported apart, so a test failing on it says why. */
export function processState(pid: number): 'gone' | 'zombie' | 'alive' {
  try {
    process.kill(pid, 0);
  } catch {
    return 'gone';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'zombie' : 'alive';
  } catch {
    return 'gone';
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
