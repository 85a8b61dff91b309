import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePythonEnv } from '@llmops/pyenv';
import type { DeploymentSpec } from '@llmops/spec';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RevisionDeployment, RevisionStatus, ServingDriver } from '../backend.ts';
import { groupMembers } from '../../execution/process-probe.ts';
import { createLocalServingDriver, type LocalServingDriverOptions } from './index.ts';

// The test venv the runtime's own tests use (a first install takes minutes; later ones are instant).
const TEST_HOME =
  process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../../../.llmops-test', import.meta.url));
const SETUP_MS = 15 * 60_000;

const SPEC: DeploymentSpec = {
  model_ref: 'tiny-llama',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 0, gpu_memory_gb: 0 },
  runtime: { max_concurrent_requests: 8, max_input_tokens: 64, max_output_tokens: 8 },
  rollout: { strategy: 'blue-green' },
  use_gpu: false,
};

let python: string;
let work: string;
let artifactsDir: string;
const drivers: ServingDriver[] = [];

function deployment(revisionId: string, storageUri: string | null, replicas = 1): RevisionDeployment {
  return {
    endpointId: 'ep-1',
    revisionId,
    projectSlug: 'demo',
    endpointName: 'tiny-chat',
    spec: SPEC,
    model: { name: 'tiny-llama', version: '1', storageUri },
    image: 'unused-locally',
    replicas,
  };
}

function driver(extra: Partial<LocalServingDriverOptions> = {}): ServingDriver {
  const d = createLocalServingDriver({
    stateDir: join(work, 'serving'),
    artifactsDir,
    python,
    readyTimeoutMs: 60_000,
    restartDelayMs: 100,
    stopGraceMs: 3_000,
    pollIntervalMs: 100,
    threadsPerReplica: 1,
    ...extra,
  });
  drivers.push(d);
  return d;
}

const pidsOf = (s: RevisionStatus) => (s.details?.pids as (number | null)[]).filter((p) => p !== null);

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return (groupMembers(pid) ?? []).length > 0;
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => Promise<T | null> | T | null, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function chat(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: 'the red fox' }],
      temperature: 0,
      max_tokens: 4,
    }),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  python = (await ensurePythonEnv({ home: TEST_HOME, dev: true })).python;
  work = mkdtempSync(join(tmpdir(), 'llmops-local-serving-'));
  artifactsDir = join(work, 'artifacts');
  // A tiny llama trained for a few steps by the real runtime, stored where training stores models.
  const demo = join(work, 'demo');
  const made = spawnSync(python, ['-m', 'llmops_runtime.testdata', demo], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
  const specPath = join(demo, 'pretrain.spec.json');
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  spec.hyperparams.max_steps = 4;
  writeFileSync(specPath, JSON.stringify(spec));
  const trained = spawnSync(python, ['-m', 'llmops_runtime'], {
    env: { ...process.env, LLMOPS_SPEC: specPath },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(trained.status, trained.stderr).toBe(0);
  cpSync(spec.output.dir, join(artifactsDir, 'models', 'tiny-llama', '1'), { recursive: true });
}, SETUP_MS);

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('local serving driver', () => {
  it('deploys two replicas without waiting, serves them round robin, and deploys idempotently', async () => {
    const d = driver();
    const first = await d.deploy(deployment('rev-a', 's3://models/tiny-llama/1', 2));
    expect(first.state).toBe('deploying');
    expect(first.replicas.map((r) => [r.id, r.state])).toEqual([
      ['r0', 'starting'],
      ['r1', 'starting'],
    ]);
    expect(d.target('ep-1', 'rev-a')).toBeNull();

    const ready = await d.waitReady('ep-1', 'rev-a', { timeoutMs: 60_000 });
    expect(ready.state).toBe('ready');
    const urls = ready.replicas.map((r) => r.url);
    expect(new Set(urls).size).toBe(2);
    expect(urls.every((u) => /^http:\/\/127\.0\.0\.1:\d+$/.test(u!))).toBe(true);

    const picked = Array.from({ length: 6 }, () => d.target('ep-1', 'rev-a'));
    expect(picked.slice(0, 2).sort()).toEqual([...urls].sort());
    expect(picked.slice(2)).toEqual([...picked.slice(0, 2), ...picked.slice(0, 2)]);
    for (const url of urls) {
      const answer = await chat(url!);
      expect(answer.status).toBe(200);
      expect(answer.body.model).toBe('tiny-chat');
      expect(answer.body.usage.completion_tokens).toBeGreaterThan(0);
    }
    // The spec's limits reach the server.
    const models = (await (await fetch(`${urls[0]}/v1/models`)).json()) as any;
    expect(models.data[0]).toMatchObject({ max_input_tokens: 64, max_output_tokens: 8 });

    const again = await d.deploy(deployment('rev-a', 's3://models/tiny-llama/1', 2));
    expect(again.state).toBe('ready');
    expect(pidsOf(again)).toEqual(pidsOf(ready));
  }, 120_000);

  it('restarts a replica killed with SIGKILL and the revision serves from both again', async () => {
    const d = driver();
    await d.deploy(deployment('rev-b', 's3://models/tiny-llama/1', 2));
    const ready = await d.waitReady('ep-1', 'rev-b', { timeoutMs: 60_000 });
    const [victim, survivor] = pidsOf(ready);
    const survivorUrl = ready.replicas[1]!.url;

    process.kill(victim!, 'SIGKILL');
    const restarting = await until('the crash to be seen', async () => {
      const s = await d.status('ep-1', 'rev-b');
      return s.replicas[0]!.restarts === 1 ? s : null;
    });
    expect(restarting.state).toBe('ready'); // degraded, still serving from r1
    expect(restarting.replicas[0]!.message).toMatch(/r0 was killed by SIGKILL; restart 1/);
    expect(restarting.message).toMatch(/1 of 2 replicas ready/);
    if (restarting.replicas[0]!.state !== 'ready') {
      expect(d.target('ep-1', 'rev-b')).toBe(survivorUrl);
      expect(d.target('ep-1', 'rev-b')).toBe(survivorUrl);
    }

    const healed = await until('r0 to be ready again', async () => {
      const s = await d.status('ep-1', 'rev-b');
      return s.replicas.every((r) => r.state === 'ready') ? s : null;
    });
    expect(healed.state).toBe('ready');
    expect(healed.message).toBeNull();
    expect(healed.replicas[0]!.restarts).toBe(1);
    expect(pidsOf(healed)[0]).not.toBe(victim);
    expect(pidsOf(healed)[1]).toBe(survivor);
    const targets = new Set([d.target('ep-1', 'rev-b'), d.target('ep-1', 'rev-b')]);
    expect(targets).toEqual(new Set(healed.replicas.map((r) => r.url)));
    for (const url of targets) expect((await chat(url!)).status).toBe(200);
  }, 120_000);

  it('fails a revision whose model files are missing at once, naming the path', async () => {
    const d = driver();
    const s = await d.deploy(deployment('rev-missing', 's3://models/tiny-llama/9'));
    expect(s.state).toBe('failed');
    expect(s.message).toBe(
      `the files of model 'tiny-llama' version '1' are missing: ${join(artifactsDir, 'models', 'tiny-llama', '9')} does not exist`,
    );
    expect(pidsOf(s)).toEqual([]);
    expect(d.target('ep-1', 'rev-missing')).toBeNull();
    expect((await d.waitReady('ep-1', 'rev-missing', { timeoutMs: 1_000 })).state).toBe('failed');

    const none = await d.deploy(deployment('rev-none', null));
    expect(none.message).toMatch(/has no storage URI/);
  });

  it('fails a revision whose model folder is corrupt with the server’s own words', async () => {
    const broken = join(artifactsDir, 'models', 'tiny-llama', 'broken');
    cpSync(join(artifactsDir, 'models', 'tiny-llama', '1'), broken, { recursive: true });
    writeFileSync(join(broken, 'model.safetensors'), 'not weights');
    const d = driver();
    expect((await d.deploy(deployment('rev-corrupt', 's3://models/tiny-llama/broken'))).state).toBe(
      'deploying',
    );
    const s = await d.waitReady('ep-1', 'rev-corrupt', { timeoutMs: 60_000 });
    expect(s.state).toBe('failed');
    expect(s.message).toMatch(/replica r0: the model server cannot load the model:/);
    expect(s.message).toContain(`cannot load the model in ${broken}`);
    expect(s.replicas[0]!.restarts).toBe(0); // a permanent failure is not retried
  }, 120_000);

  it('fails a revision whose server does not become ready in time, and stops it', async () => {
    const d = driver({ readyTimeoutMs: 300 });
    await d.deploy(deployment('rev-slow', 's3://models/tiny-llama/1'));
    const s = await d.waitReady('ep-1', 'rev-slow', { timeoutMs: 30_000 });
    expect(s.state).toBe('failed');
    expect(s.message).toMatch(/^replica r0 did not become ready within 0 s/);
    expect(s.replicas[0]!.state).toBe('failed');
    expect(pidsOf(s)).toEqual([]);
  }, 60_000);

  it('fails a revision after repeated crashes during start-up with the last log lines', async () => {
    // 192.0.2.1 (TEST-NET-1) is not an address of this machine: the server cannot bind it and exits 20.
    const d = driver({ host: '192.0.2.1', maxStartupCrashes: 3 });
    await d.deploy(deployment('rev-crash', 's3://models/tiny-llama/1'));
    const s = await d.waitReady('ep-1', 'rev-crash', { timeoutMs: 60_000 });
    expect(s.state).toBe('failed');
    expect(s.message).toMatch(/^replica r0 exited with code 20 3 times before becoming ready/);
    expect(s.message).toContain('cannot listen on 192.0.2.1:0');
    expect(s.replicas[0]!.restarts).toBe(2);
  }, 60_000);

  it('remove stops every replica and leaves no process; removing again is a no-op', async () => {
    const d = driver();
    await d.deploy(deployment('rev-c', 's3://models/tiny-llama/1', 2));
    const ready = await d.waitReady('ep-1', 'rev-c', { timeoutMs: 60_000 });
    const pids = pidsOf(ready);
    expect(pids.every(running)).toBe(true);
    await d.remove('ep-1', 'rev-c');
    expect(pids.some(running)).toBe(false);
    expect((await d.status('ep-1', 'rev-c')).state).toBe('removed');
    expect(d.target('ep-1', 'rev-c')).toBeNull();
    await d.remove('ep-1', 'rev-c');
    await expect(
      d.waitReady('ep-1', 'rev-c', { timeoutMs: 1, signal: AbortSignal.abort(new Error('stop')) }),
    ).rejects.toThrow('stop');
  }, 120_000);

  it('a new driver stops the servers that a killed platform process left running', async () => {
    // The earlier platform: a separate Node process that deploys, reports, and is then SIGKILLed.
    const script = join(work, 'earlier-platform.mts');
    writeFileSync(
      script,
      [
        `import { createLocalServingDriver } from ${JSON.stringify(fileURLToPath(new URL('./index.ts', import.meta.url)))};`,
        'const [opts, dep] = JSON.parse(process.argv[2]);',
        'const d = createLocalServingDriver(opts);',
        'await d.deploy(dep);',
        'const s = await d.waitReady(dep.endpointId, dep.revisionId, { timeoutMs: 60000 });',
        'console.log(JSON.stringify(s));',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const opts = { stateDir: join(work, 'serving'), artifactsDir, python, pollIntervalMs: 100 };
    const earlier = spawn(
      process.execPath,
      ['--import', 'tsx', script, JSON.stringify([opts, deployment('rev-d', 's3://models/tiny-llama/1')])],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    earlier.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const status = await until('the earlier platform to report', () => {
      if (earlier.exitCode !== null) throw new Error(`the earlier platform exited ${earlier.exitCode}`);
      return out.includes('\n') ? (JSON.parse(out) as RevisionStatus) : null;
    });
    expect(status.state).toBe('ready');
    earlier.kill('SIGKILL');
    await until('the earlier platform to die', () =>
      earlier.exitCode !== null || earlier.signalCode ? true : null,
    );
    const pids = pidsOf(status);
    expect(pids.every(running)).toBe(true); // detached: the servers outlive the platform

    const messages: string[] = [];
    const after = driver({ log: (m) => messages.push(m) });
    await until('the orphaned server to end', () => (pids.some(running) ? null : true), 10_000);
    expect(messages).toContain(
      'local serving: stopped 1 model server(s) left by an earlier platform process',
    );
    expect((await after.status('ep-1', 'rev-d')).state).toBe('removed');
    // The revision is deployed afresh on the new driver.
    await after.deploy(deployment('rev-d', 's3://models/tiny-llama/1'));
    expect((await after.waitReady('ep-1', 'rev-d', { timeoutMs: 60_000 })).state).toBe('ready');
  }, 120_000);
});
