import { execFile } from 'node:child_process';

/**
 * What the machine the platform runs on says about NVIDIA GPUs. `unknown` means the answer is
 * ambiguous (driver broken, timeout, odd output); image selection treats it like `absent` (FR-028).
 */
export interface GpuDetection {
  readonly state: 'present' | 'absent' | 'unknown';
  readonly count: number;
  readonly models: string[];
  readonly reason: string;
}

export interface CommandResult {
  /** Exit code; null when the process was killed (for example by the timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command. Rejects only when it cannot be started; `ENOENT` on the error means not installed. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<CommandResult>;

export interface DetectGpuOptions {
  readonly run?: CommandRunner;
  readonly env?: NodeJS.ProcessEnv;
  /** Timeout of the default runner. */
  readonly timeoutMs?: number;
}

export const DETECT_TIMEOUT_MS = 3000;
export const NVIDIA_SMI_ARGS = ['--query-gpu=name,memory.total', '--format=csv,noheader'];

export interface NvidiaGpu {
  readonly name: string;
  /** null when the driver reports `[N/A]` (unified-memory devices). */
  readonly memoryMiB: number | null;
}

export type NvidiaSmiParse =
  { readonly ok: true; readonly gpus: NvidiaGpu[] } | { readonly ok: false; readonly problem: string };

/** Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader`, e.g. `NVIDIA L4, 23034 MiB`. */
export function parseNvidiaSmiOutput(stdout: string): NvidiaSmiParse {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length === 0) return { ok: false, problem: 'nvidia-smi listed no GPUs' };
  const gpus: NvidiaGpu[] = [];
  for (const [index, line] of lines.entries()) {
    // Split at the last comma: the memory column never contains one, a model name might.
    const comma = line.lastIndexOf(',');
    const name = comma > 0 ? line.slice(0, comma).trim() : '';
    const memory = comma > 0 ? line.slice(comma + 1).trim() : '';
    const mib = /^(\d+(?:\.\d+)?) MiB$/.exec(memory);
    if (name === '' || (!mib && memory !== '[N/A]')) {
      return { ok: false, problem: `unexpected nvidia-smi output on line ${index + 1}: "${truncate(line)}"` };
    }
    gpus.push({ name, memoryMiB: mib ? Number(mib[1]) : null });
  }
  return { ok: true, gpus };
}

/**
 * Asks nvidia-smi which GPUs this machine has. Never throws: every failure becomes `absent` (no NVIDIA
 * tooling, or GPUs hidden on purpose) or `unknown` (tooling present but the answer is not trustworthy).
 */
export async function detectGpu(opts: DetectGpuOptions = {}): Promise<GpuDetection> {
  const env = opts.env ?? process.env;
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) {
    return absent(`CUDA_VISIBLE_DEVICES is set to "${visible}", which hides every GPU`);
  }
  const run = opts.run ?? ((cmd, args) => runCommand(cmd, args, { env, timeoutMs: opts.timeoutMs }));

  let result: CommandResult;
  try {
    result = await run('nvidia-smi', NVIDIA_SMI_ARGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return absent('nvidia-smi is not installed');
    return unknown(`nvidia-smi could not be started (${code ?? errorText(error)})`);
  }
  // 127 is the shell's "command not found", seen when a wrapper script runs it.
  if (result.code === 127) return absent('nvidia-smi is not installed');
  if (result.code === null) return unknown('nvidia-smi did not answer in time');
  if (result.code !== 0) {
    const detail = firstLine(result.stderr) || firstLine(result.stdout);
    return unknown(`nvidia-smi exited with code ${result.code}${detail ? `: ${truncate(detail)}` : ''}`);
  }
  const parsed = parseNvidiaSmiOutput(result.stdout);
  if (!parsed.ok) return unknown(parsed.problem);
  const models = parsed.gpus.map((gpu) => gpu.name);
  const noun = models.length === 1 ? 'GPU' : 'GPUs';
  return {
    state: 'present',
    count: models.length,
    models,
    reason: `nvidia-smi found ${models.length} ${noun}: ${models.join(', ')}`,
  };
}

/** The default runner: execFile without a shell, killed after the timeout. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number | undefined } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: opts.env,
        timeout: opts.timeoutMs ?? DETECT_TIMEOUT_MS,
        encoding: 'utf8',
        windowsHide: true,
        maxBuffer: 1 << 20,
      },
      (error, stdout, stderr) => {
        if (!error) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ code: error.code, stdout, stderr });
        else if (error.killed || error.signal) resolve({ code: null, stdout, stderr });
        else reject(error);
      },
    );
  });
}

function absent(reason: string): GpuDetection {
  return { state: 'absent', count: 0, models: [], reason };
}

function unknown(reason: string): GpuDetection {
  return { state: 'unknown', count: 0, models: [], reason };
}

function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .find((line) => line.trim() !== '')
      ?.trim() ?? ''
  );
}

function truncate(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
