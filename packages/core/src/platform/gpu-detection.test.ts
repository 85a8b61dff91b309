import { describe, expect, it, vi } from 'vitest';
import { NVIDIA_SMI_ARGS, detectGpu, parseNvidiaSmiOutput } from './gpu-detection.ts';
import type { CommandResult, CommandRunner } from './gpu-detection.ts';

const ONE_GPU = 'NVIDIA A100-SXM4-80GB, 81920 MiB\n';
const TWO_GPUS = 'NVIDIA L4, 23034 MiB\r\nNVIDIA L4, 23034 MiB\r\n';

function answering(result: Partial<CommandResult>): CommandRunner {
  return vi.fn(async () => ({ code: 0, stdout: '', stderr: '', ...result }));
}

function failingWith(code: string): CommandRunner {
  return vi.fn(async () => {
    throw Object.assign(new Error(`spawn nvidia-smi ${code}`), { code });
  });
}

describe('parseNvidiaSmiOutput', () => {
  it.each([
    ['one GPU', ONE_GPU, [{ name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920 }]],
    [
      'two GPUs with CRLF line ends',
      TWO_GPUS,
      [
        { name: 'NVIDIA L4', memoryMiB: 23034 },
        { name: 'NVIDIA L4', memoryMiB: 23034 },
      ],
    ],
    ['memory not reported', 'NVIDIA GH200 480GB, [N/A]\n', [{ name: 'NVIDIA GH200 480GB', memoryMiB: null }]],
    [
      'a comma inside the name',
      'Vendor GPU, rev 2, 16384 MiB',
      [{ name: 'Vendor GPU, rev 2', memoryMiB: 16384 }],
    ],
  ])('parses %s', (_, stdout, gpus) => {
    expect(parseNvidiaSmiOutput(stdout)).toEqual({ ok: true, gpus });
  });

  it.each([
    ['empty output', '', 'nvidia-smi listed no GPUs'],
    ['blank lines only', '\n  \n', 'nvidia-smi listed no GPUs'],
    ['garbage', 'No devices were found', 'unexpected nvidia-smi output on line 1: "No devices were found"'],
    ['a bad second line', `${ONE_GPU}oops, lots`, 'unexpected nvidia-smi output on line 2: "oops, lots"'],
    ['a missing name', ', 1024 MiB', 'unexpected nvidia-smi output on line 1: ", 1024 MiB"'],
  ])('rejects %s', (_, stdout, problem) => {
    expect(parseNvidiaSmiOutput(stdout)).toEqual({ ok: false, problem });
  });
});

describe('detectGpu', () => {
  it('runs nvidia-smi with the CSV query', async () => {
    const run = answering({ stdout: ONE_GPU });
    await detectGpu({ run, env: {} });
    expect(run).toHaveBeenCalledWith('nvidia-smi', NVIDIA_SMI_ARGS);
    expect(NVIDIA_SMI_ARGS).toEqual(['--query-gpu=name,memory.total', '--format=csv,noheader']);
  });

  it.each([
    [
      'one GPU',
      answering({ stdout: ONE_GPU }),
      'present',
      1,
      'nvidia-smi found 1 GPU: NVIDIA A100-SXM4-80GB',
    ],
    [
      'two GPUs',
      answering({ stdout: TWO_GPUS }),
      'present',
      2,
      'nvidia-smi found 2 GPUs: NVIDIA L4, NVIDIA L4',
    ],
    ['not installed', failingWith('ENOENT'), 'absent', 0, 'nvidia-smi is not installed'],
    [
      'command not found from a wrapper',
      answering({ code: 127 }),
      'absent',
      0,
      'nvidia-smi is not installed',
    ],
    ['not executable', failingWith('EACCES'), 'unknown', 0, 'nvidia-smi could not be started (EACCES)'],
    [
      'a broken driver',
      answering({
        code: 9,
        stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
      }),
      'unknown',
      0,
      "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    ],
    ['a non-zero exit without output', answering({ code: 6 }), 'unknown', 0, 'nvidia-smi exited with code 6'],
    ['a timeout', answering({ code: null }), 'unknown', 0, 'nvidia-smi did not answer in time'],
    ['empty output', answering({ stdout: '' }), 'unknown', 0, 'nvidia-smi listed no GPUs'],
    ['garbage', answering({ stdout: '???' }), 'unknown', 0, 'unexpected nvidia-smi output on line 1: "???"'],
  ] as const)('reports %s', async (_, run, state, count, reason) => {
    const detection = await detectGpu({ run, env: {} });
    expect(detection).toMatchObject({ state, count, reason });
    expect(detection.models).toHaveLength(count);
  });

  it.each(['', '-1', ' -1 '])(
    'treats CUDA_VISIBLE_DEVICES=%j as absent without running nvidia-smi',
    async (value) => {
      const run = answering({ stdout: ONE_GPU });
      const detection = await detectGpu({ run, env: { CUDA_VISIBLE_DEVICES: value } });
      expect(detection).toEqual({
        state: 'absent',
        count: 0,
        models: [],
        reason: `CUDA_VISIBLE_DEVICES is set to "${value}", which hides every GPU`,
      });
      expect(run).not.toHaveBeenCalled();
    },
  );

  it('still asks nvidia-smi when CUDA_VISIBLE_DEVICES selects devices', async () => {
    const detection = await detectGpu({
      run: answering({ stdout: ONE_GPU }),
      env: { CUDA_VISIBLE_DEVICES: '0' },
    });
    expect(detection.state).toBe('present');
  });
});
