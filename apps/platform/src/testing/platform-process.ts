/**
 * The platform process (`apps/platform/src/main.ts`) as a child of a test or benchmark: a fresh
 * LLMOPS_HOME whose Python environment reuses the runtime's test environment, start, readiness, SIGKILL,
 * restart, and the few API calls needed to run synthetic jobs. Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { inputsHash } from '@llmops/pyenv';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@llmops/orchestration';
import { platformNodeArgs } from '@llmops/config';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'apps/platform/src/main.ts');

/** The test environment of the runtime (prepared by its test script), LLMOPS_TEST_HOME wins. */
export function testHome(): string {
  return process.env.LLMOPS_TEST_HOME ?? join(REPO_ROOT, '.llmops-test');
}

/**
 * Gives `home` a Python environment without installing one: `<home>/venv` links the bin and lib of the
 * test environment's venv and carries the stamp the platform expects for a non-dev environment, so the
 * platform's `ensurePythonEnv` finds it fresh.
 */
export async function linkPythonEnv(home: string): Promise<void> {
  const source = join(testHome(), 'venv');
  if (!existsSync(join(source, 'bin', 'python')))
    throw new Error(`no Python test environment in ${source}: run runtimes/python/run-tests.sh first`);
  const venv = join(home, 'venv');
  await mkdir(venv, { recursive: true });
  for (const entry of ['bin', 'lib', 'lib64', 'include'])
    if (existsSync(join(source, entry))) await symlink(join(source, entry), join(venv, entry));
  await copyFile(join(source, 'pyvenv.cfg'), join(venv, 'pyvenv.cfg'));
  const runtimeDir = join(REPO_ROOT, 'runtimes/python');
  const basePython = process.env.LLMOPS_PYTHON ?? '/usr/bin/python3';
  const hash = await inputsHash(runtimeDir, basePython, false);
  const sourceStamp = JSON.parse(await readFile(join(source, '.llmops-stamp.json'), 'utf8')) as {
    torchVersion: string | null;
  };
  await writeFile(
    join(venv, '.llmops-stamp.json'),
    JSON.stringify({ hash, torchVersion: sourceStamp.torchVersion }),
  );
}

export interface PlatformProcess {
  pid: number;
  url: string;
  api: string;
  token: string;
  /** Resolves with the exit once the process is gone. */
  exited: Promise<void>;
  /** SIGKILL, no clean-up in the process. */
  kill9(): Promise<void>;
  /** SIGTERM (clean shutdown), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  output(): string;
}

export interface PlatformProcessOptions {
  home: string;
  temporalAddress: string;
  token: string;
  port?: number;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Starts `main.ts` in a child Node process and resolves once `/health/ready` answers. */
export async function startPlatformProcess(opts: PlatformProcessOptions): Promise<PlatformProcess> {
  const port = opts.port ?? (await freePort());
  const env = {
    ...process.env,
    LLMOPS_HOME: opts.home,
    PORT: String(port),
    HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: opts.temporalAddress,
    LLMOPS_BOOTSTRAP_TOKEN: opts.token,
    LOG_LEVEL: 'silent',
    DATABASE_URL: '',
    // No delivery to whatever MLflow may listen on the default port; tracking tests turn it on.
    EXPERIMENT_TRACKING_ENABLED: 'false',
    ...opts.env,
  };
  // Started as `llmops up` starts it (same Node.js arguments).
  const child: ChildProcess = spawn(process.execPath, [...platformNodeArgs(env), '--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      gone = true;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const url = `http://127.0.0.1:${port}`;
  const api = `${url}/llm-ops/v1`;
  const proc: PlatformProcess = {
    pid: child.pid!,
    url,
    api,
    token: opts.token,
    exited,
    async kill9() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    output: () => out,
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (gone) throw new Error(`the platform process exited before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      await proc.kill9();
      throw new Error(`the platform process was not ready in time:\n${out}`);
    }
    const ok = await fetch(`${api}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    // Execution is connected once the banner is out (the API may answer a moment earlier).
    if (ok && out.includes('execution:')) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU time (user + system, seconds) and resident memory (bytes) of a process, from /proc. */
export async function processUsage(pid: number): Promise<{ cpuSeconds: number; rssBytes: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the state field; clock ticks of 1/100 s.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / CLOCK_TICKS, rssBytes: rssKb * 1024 };
}
const CLOCK_TICKS = 100;

/** The API of one platform process, as its administrator. */
export function apiClient(p: { api: string; token: string }) {
  const headers = { authorization: `Bearer ${p.token}` };
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ) => {
    const r = await fetch(`${p.api}${path}`, {
      method,
      headers: {
        ...headers,
        ...(body instanceof FormData ? {} : { 'content-type': 'application/json' }),
        ...extra,
      },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (JSON.parse(text) as { data: T }).data;
  };
  return {
    /** Uploads a tiny pretrain corpus (the synthetic mode reads no data, but the job needs a dataset file). */
    async uploadCorpus(name = 'corpus'): Promise<{ id: string }> {
      const rows = Array.from({ length: 20 }, (_, i) =>
        JSON.stringify({ text: `line ${i} of a tiny corpus` }),
      );
      const form = new FormData();
      form.set('name', name);
      form.set('version', 'v1');
      form.set('type', 'pretrain_corpus');
      form.set('file', new Blob([`${rows.join('\n')}\n`], { type: 'application/jsonl' }), 'corpus.jsonl');
      return call<{ id: string }>('POST', '/catalog/datasets', form);
    },
    /** Submits a PRETRAIN job on the uploaded corpus. */
    submitPretrain(artifactName: string, corpus = 'corpus'): Promise<{ id: string; status: string }> {
      return call(
        'POST',
        '/training/jobs',
        {
          jobType: 'pretrain',
          trainJobSpec: {
            job_type: 'PRETRAIN',
            model_family: 'llama',
            base_model_ref: null,
            dataset_ref: {
              name: corpus,
              version: 'v1',
              type: 'pretrain_corpus',
              storage_uri: `s3://datasets/default/${corpus}/v1`,
            },
            hyperparams: { lr: 0.003, batch_size: 8, num_epochs: 1, max_seq_len: 64, precision: 'bf16' },
            method: 'full',
            resources: { gpus: 0, gpu_type: 'T4', nodes: 1 },
            output: { artifact_name: artifactName, save_format: 'safetensors' },
            use_gpu: false,
          },
        },
        { 'idempotency-key': `submit-${artifactName}` },
      );
    },
    job: (id: string) => call<{ id: string; status: string }>('GET', `/training/jobs/${id}`),
    events: (id: string) => call<JobEvent[]>('GET', `/training/jobs/${id}/events`),
  };
}

export interface JobEvent {
  id: number;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  actor: string;
  detail: Record<string, unknown>;
  createdAt: string;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * SIGKILLs the process group of every attempt under `runsDir` whose wrapper still runs it (the wrapper's
 * command line names the attempt dir, so a reused pid is left alone). Runs are detached from the platform.
 */
export async function killLeftoverRuns(runsDir: string): Promise<void> {
  for (const job of await readdir(runsDir).catch(() => [] as string[])) {
    const attempts = await readdir(join(runsDir, job)).catch(() => [] as string[]);
    for (const a of attempts.filter((x) => x.startsWith('attempt-'))) {
      const dir = join(runsDir, job, a);
      const pid = Number((await readFile(join(dir, 'wrapper.pid'), 'utf8').catch(() => '')).trim());
      const cmdline = pid > 1 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
      if (cmdline.includes(dir)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  }
}
