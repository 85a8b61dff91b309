/**
 * The running stack the console's browser tests drive: the built console, a Temporal dev server, a real
 * MLflow server and the platform process serving both the API and the console on a free loopback port.
 * Jobs run the runtime's synthetic mode, so a submitted job succeeds in seconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { startTestMlflow, type TestMlflow } from '@llmops/testing';
import {
  apiClient,
  killLeftoverRuns,
  linkPythonEnv,
  REPO_ROOT,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from '../../apps/platform/src/testing/platform-process.ts';

export interface ConsoleStack {
  url: string;
  token: string;
  /** Ids of what the stack was seeded with, for the dynamic routes. */
  seeded: {
    modelId: string;
    datasetId: string;
    jobIds: string[];
    runIds: string[];
    endpointId: string | null;
  };
}

const TOKEN = 'console-e2e-bootstrap-token';

/** Builds the console if its sources changed (the same check `llmops up` makes). */
export function buildConsole(): void {
  execFileSync(process.execPath, [join(REPO_ROOT, 'apps/web/scripts/ensure-build.mjs')], {
    stdio: 'inherit',
  });
}

/** The runtime's test environment, prepared as runtimes/python/run-tests.sh does when it is missing. */
function ensureTestPython(): void {
  if (existsSync(join(testHome(), 'venv', 'bin', 'python'))) return;
  execFileSync('npx', ['tsx', 'packages/pyenv/src/prepare.ts', '--home', testHome(), '--dev'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

async function call<T>(p: PlatformProcess, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${p.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return (JSON.parse(text) as { data: T }).data;
}

function pretrainBody(artifact: string, lr: number) {
  return {
    jobType: 'pretrain',
    trainJobSpec: {
      job_type: 'PRETRAIN',
      model_family: 'llama',
      base_model_ref: null,
      dataset_ref: {
        name: 'corpus',
        version: 'v1',
        type: 'pretrain_corpus',
        storage_uri: 's3://datasets/default/corpus/v1',
      },
      hyperparams: { lr, batch_size: 8, num_epochs: 1, max_seq_len: 64, precision: 'bf16' },
      method: 'full',
      resources: { gpus: 0, gpu_type: 'T4', nodes: 1 },
      output: { artifact_name: artifact, save_format: 'safetensors' },
      use_gpu: false,
    },
  };
}

export async function startConsoleStack(): Promise<{ stack: ConsoleStack; stop: () => Promise<void> }> {
  buildConsole();
  ensureTestPython();
  const dir = await mkdtemp(join(tmpdir(), 'llmops-console-e2e-'));
  const home = join(dir, 'home');
  let server: DevServer | undefined;
  let mlflow: TestMlflow | undefined;
  let platform: PlatformProcess | undefined;
  const stop = async () => {
    await platform?.kill9();
    await killLeftoverRuns(join(home, 'runs'));
    await Promise.all([server?.stop(), mlflow?.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await linkPythonEnv(home);
    const cli = await resolveTemporalCli({ home: testHome(), dev: true });
    [server, mlflow] = await Promise.all([
      startTemporalDevServer({ cli, headless: true, dbFile: join(dir, 'temporal.db') }),
      startTestMlflow(),
    ]);
    platform = await startPlatformProcess({
      home,
      temporalAddress: server.address,
      token: TOKEN,
      env: {
        // 12 steps of 150 ms: a job succeeds in a few seconds.
        LLMOPS_SYNTHETIC_RUNS: '12x150',
        EXPERIMENT_TRACKING_ENABLED: 'true',
        MLFLOW_ENABLED: 'true',
        MLFLOW_TRACKING_URI: mlflow.url,
      },
    });
    const p = platform;
    const dataset = await apiClient(p).uploadCorpus('corpus');
    const model = await call<{ id: string }>(p, 'POST', '/catalog/models', {
      name: 'llama-3-8b-sft-v1',
      model_family: 'llama',
      max_position_embeddings: 8192,
      parameter_count: 8_000_000_000,
    });
    const jobs = await Promise.all(
      [
        ['e2e-tiny-a', 0.003],
        ['e2e-tiny-b', 0.001],
      ].map(([name, lr]) =>
        call<{ id: string }>(p, 'POST', '/training/jobs', pretrainBody(name as string, lr as number)),
      ),
    );
    const runIds: string[] = [];
    for (const job of jobs) {
      await waitFor(
        `job ${job.id} to succeed`,
        async () =>
          (await call<{ status: string }>(p, 'GET', `/training/jobs/${job.id}`)).status === 'SUCCEEDED',
        120_000,
        500,
      );
      const run = await waitFor(
        `the MLflow run of job ${job.id}`,
        () => call<{ run_id: string }>(p, 'GET', `/training/jobs/${job.id}/experiment-run`),
        60_000,
        500,
      );
      runIds.push(run.run_id);
    }
    // An endpoint needs a model with files: the first job's trained model.
    const trained = await call<{ items: { id: string }[] }>(p, 'GET', '/catalog/models?search=e2e-tiny-a');
    const endpoint = await call<{ id: string }>(p, 'POST', '/serving/endpoints', {
      modelId: trained.items[0]?.id,
      route: '/e2e-model',
      environment: 'dev',
      deploymentSpec: {
        model_ref: 'e2e-tiny-a',
        model_family: 'llama',
        job_type: 'PRETRAIN',
        serve_target: 'GENERATION',
        resources: { gpus: 0, gpu_memory_gb: 1 },
        runtime: { max_concurrent_requests: 4, max_input_tokens: 64, max_output_tokens: 32 },
        rollout: { strategy: 'canary', traffic_split: { old: 90, new: 10 } },
        use_gpu: false,
      },
    }).catch((e: Error) => {
      // Serving is optional for the navigation tests: the endpoint page then shows its not-found state.
      process.stderr.write(`console e2e: no endpoint seeded: ${e.message}\n`);
      return null;
    });
    return {
      stack: {
        url: p.url,
        token: TOKEN,
        seeded: {
          modelId: model.id,
          datasetId: dataset.id,
          jobIds: jobs.map((j) => j.id),
          runIds,
          endpointId: endpoint?.id ?? null,
        },
      },
      stop,
    };
  } catch (e) {
    if (platform) process.stderr.write(platform.output());
    await stop();
    throw e;
  }
}
