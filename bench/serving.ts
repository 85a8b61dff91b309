/**
 * Inference latency through the platform against the model server called directly, in the same run.
 *
 * Starts a headless in-memory Temporal dev server and the real platform process as a child (embedded
 * PGlite in a temporary LLMOPS_HOME whose Python environment links the runtime's test environment, or the
 * empty PostgreSQL database of DATABASE_URL; local serving backend). Trains a tiny llama for a few steps with the runtime (as the local serving driver's
 * tests do), puts its folder in the platform's artifact store, registers it in the catalog with that
 * storage URI, creates an endpoint on it and waits until it is READY. Then it sends `--requests` short
 * completions (`POST /v1/completions`, `max_tokens` `--max-tokens`, 16 by default — a short answer; the
 * tiny model really writes that many tokens, which the bench checks and prints — temperature 0, one at a
 * time) to each of:
 *
 * - direct: the model server replica's own URL (from `GET …/status`, `replicas[].url`);
 * - platform: `POST /llm-ops/v1/serving/endpoints/{id}/v1/completions` (authentication, endpoint lookup,
 *   limits, routing table, proxy to the same replica);
 * - reference: a bare `node:http` forwarder to the same replica in a process of its own — the floor of
 *   any proxy hop on this machine, printed for comparison (no target).
 *
 * Each round sends one request to each, in an order that rotates every round, so machine noise weighs on
 * all alike; all go through the same keep-alive HTTP client. Warm-up rounds are not counted. Prints
 * p50/p95/p99 of each, the p50 ratio platform/direct (target ≤ 1.1) and the ms added at p99 (target
 * ≤ 5 ms) with PASS/FAIL, each with the reference's figure beside it; exit code 0 when both targets are
 * met. Bad options exit 2 with the problem, nothing started.
 *
 * `--profile DIR` writes a CPU profile of the platform process (`.cpuprofile`, for Chrome DevTools) there.
 *
 *   npx tsx bench/serving.ts [--requests 1000] [--max-tokens 16] [--warmup 30] [--timeout 900] [--profile DIR]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import {
  linkPythonEnv,
  processUsage,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from '../apps/platform/src/testing/platform-process.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    'max-tokens': { type: 'string', default: '16' },
    warmup: { type: 'string', default: '30' },
    timeout: { type: 'string', default: '900' },
    profile: { type: 'string' },
  },
});
function usage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
const bounded = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be an integer from ${min} to ${max}, got '${String(v)}'`);
  return n;
};
const REQUESTS = bounded('requests', values.requests, 20, 20_000);
const MAX_TOKENS = bounded('max-tokens', values['max-tokens'], 1, 64);
const WARMUP = bounded('warmup', values.warmup, 0, 1000);
const TIMEOUT_MS = bounded('timeout', values.timeout, 60, 3600) * 1000;

const P50_RATIO_TARGET = 1.1;
const P99_ADDED_TARGET_MS = 5;
const MODEL = 'bench-tiny-llama';
const out = (line: string) => process.stdout.write(`${line}\n`);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const fmt = (v: number) => `${v.toFixed(2)} ms`;

const PROFILE_FILE = 'platform.cpuprofile';
const IDLE_MS = 5000;

/**
 * A script the platform process preloads (NODE_OPTIONS does not take --cpu-prof): the first SIGUSR2 starts
 * the V8 profiler, the second writes the profile, so it covers exactly the measured requests.
 */
async function writeProfilerPreload(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'profiler-preload.cjs');
  await writeFile(
    file,
    `const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
    return;
  }
  session.post('Profiler.stop', (err, r) => {
    if (!err) fs.writeFileSync(${JSON.stringify(join(dir, PROFILE_FILE))}, JSON.stringify(r.profile));
  });
});
`,
  );
  return file;
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Where the platform's CPU time went: by package or source file, then the busiest functions. */
function summariseProfile(profile: CpuProfile, requests: number): string[] {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const perSample = totalMs / Math.max(1, profile.samples.length);
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, count] of hits) {
    const { functionName, url, lineNumber } = byNode.get(id)!.callFrame;
    const ms = count * perSample;
    if (functionName === '(idle)') continue;
    busy += ms;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const place = pkg
      ? pkg
      : url.startsWith('node:')
        ? 'node (built-in modules)'
        : url
          ? url.replace(/^file:\/\//, '').replace(/^.*?\/(apps|packages)\//, '$1/')
          : functionName;
    byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, v]) =>
          `  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${(v / requests).toFixed(3)} ms/request  ${k}`,
      );
  return [
    `busy ${busy.toFixed(0)} ms of ${totalMs.toFixed(0)} ms: ${(busy / requests).toFixed(3)} ms of CPU per proxied request (the process's background work included)`,
    'by package or file:',
    ...top(byPlace, 15),
    'busiest functions (self time):',
    ...top(byFunction, 20),
  ];
}

/**
 * The floor of one proxy hop on this machine: a bare `node:http` forwarder in a process of its own (no
 * framework, no authentication, no routing), keep-alive and no Nagle upstream, the answer read whole and
 * sent in one write, as the platform does. Prints its port on stdout.
 */
const REFERENCE_PROXY = `
const http = require('node:http');
const target = new URL(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, noDelay: true });
const server = http.createServer((req, res) => {
  const body = [];
  req.on('data', (c) => body.push(c));
  req.on('end', () => {
    const payload = Buffer.concat(body);
    const up = http.request({ agent, host: target.hostname, port: target.port, path: req.url, method: req.method,
      headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (u) => {
      const answer = [];
      u.on('data', (c) => answer.push(c));
      u.on('end', () => {
        const b = Buffer.concat(answer);
        res.writeHead(u.statusCode, { 'content-type': u.headers['content-type'] || 'application/json', 'content-length': b.length });
        res.end(b);
      });
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    up.end(payload);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function startReferenceProxy(target: string): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', REFERENCE_PROXY, target], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the reference proxy exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) =>
      resolve({ url: `http://127.0.0.1:${d.toString().trim()}`, child }),
    );
  });
}

/** A tiny llama trained for a few steps by the runtime; returns the folder it wrote. */
function trainTinyModel(python: string, work: string): string {
  const demo = join(work, 'demo');
  const made = spawnSync(python, ['-m', 'llmops_runtime.testdata', demo], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`llmops_runtime.testdata failed: ${made.stderr}`);
  const specPath = join(demo, 'pretrain.spec.json');
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  spec.hyperparams.max_steps = 4;
  writeFileSync(specPath, JSON.stringify(spec));
  const trained = spawnSync(python, ['-m', 'llmops_runtime'], {
    env: { ...process.env, LLMOPS_SPEC: specPath },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (trained.status !== 0) throw new Error(`training the tiny model failed: ${trained.stderr.slice(-2000)}`);
  return spec.output.dir as string;
}

/** One keep-alive client for both targets, so neither pays for connections the other does not. */
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const started = performance.now();
    const req = request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const elapsed = performance.now() - started;
          if (res.statusCode !== 200)
            reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`));
          else resolve(elapsed);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function api<T>(p: PlatformProcess, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${p.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return (JSON.parse(text) as { data: T }).data;
}

interface Status {
  status: string;
  revisions: {
    state: string;
    message: string | null;
    backend: { replicas: { url: string | null }[] } | null;
  }[];
}

async function main() {
  const deadline = Date.now() + TIMEOUT_MS;
  const home = await mkdtemp(join(tmpdir(), 'llmops-bench-serving-'));
  let server: DevServer | null = null;
  let platform: PlatformProcess | null = null;
  let reference: ChildProcess | null = null;
  const hardStop = setTimeout(() => {
    process.stderr.write(`bench: timed out after ${TIMEOUT_MS / 1000} s\n`);
    void cleanup().finally(() => process.exit(2));
  }, TIMEOUT_MS);
  async function cleanup() {
    clearTimeout(hardStop);
    agent.destroy();
    reference?.kill();
    // The platform stops its model server replicas when it stops.
    await platform?.stop(15_000).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await rm(home, { recursive: true, force: true }).catch(() => undefined);
  }

  const profileDir = values.profile ? resolve(values.profile) : null;
  try {
    const cli = await resolveTemporalCli({ home: testHome(), dev: true });
    server = await startTemporalDevServer({ cli, headless: true });
    await linkPythonEnv(home);
    const python = join(home, 'venv', 'bin', 'python');
    const folder = trainTinyModel(python, home);
    cpSync(folder, join(home, 'artifacts', 'models', MODEL, '1'), { recursive: true });

    platform = await startPlatformProcess({
      home,
      temporalAddress: server.address,
      token: `bench-${Math.random().toString(36).slice(2)}-token`,
      env: {
        DATABASE_URL: process.env.DATABASE_URL ?? '',
        ...(profileDir ? { NODE_OPTIONS: `--require ${await writeProfilerPreload(profileDir)}` } : {}),
      },
    });
    const p = platform;
    const model = await api<{ id: string }>(p, 'POST', '/catalog/models', {
      name: MODEL,
      model_family: 'llama',
      max_position_embeddings: 2048,
      parameter_count: 1_000_000,
      storage_uri: `s3://models/${MODEL}/1`,
    });
    const endpoint = await api<{ id: string }>(p, 'POST', '/serving/endpoints', {
      modelId: model.id,
      route: '/bench',
      environment: 'dev',
      deploymentSpec: {
        model_ref: MODEL,
        model_family: 'llama',
        job_type: 'SFT',
        serve_target: 'GENERATION',
        resources: { gpus: 0, gpu_memory_gb: 0 },
        runtime: { max_concurrent_requests: 64, max_input_tokens: 64, max_output_tokens: 64 },
        rollout: { strategy: 'blue-green' },
        use_gpu: false,
      },
    });
    const status = () => api<Status>(p, 'GET', `/serving/endpoints/${endpoint.id}/status`);
    const ready = await waitFor(
      'the endpoint READY',
      async () => {
        const s = await status();
        if (s.status === 'FAILED') throw new Error(`the endpoint failed: ${JSON.stringify(s.revisions)}`);
        return s.status === 'READY' ? s : null;
      },
      Math.max(1_000, deadline - Date.now() - 60_000),
      500,
    );
    const replica = ready.revisions.find((r) => r.state === 'serving')?.backend?.replicas[0]?.url;
    if (!replica) throw new Error(`no replica URL in the status: ${JSON.stringify(ready)}`);

    const body = JSON.stringify({ prompt: 'the red fox', max_tokens: MAX_TOKENS, temperature: 0 });
    // The model must really write max_tokens tokens (no early end), or the completion is not the one named.
    const sample = (await (
      await fetch(`${replica}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    ).json()) as { usage?: { completion_tokens?: number } };
    const written = sample.usage?.completion_tokens;
    const ref = await startReferenceProxy(replica);
    reference = ref.child;
    const direct = () => post(`${replica}/v1/completions`, body);
    const proxied = () =>
      post(`${p.api}/serving/endpoints/${endpoint.id}/v1/completions`, body, {
        authorization: `Bearer ${p.token}`,
      });
    const bare = () => post(`${ref.url}/v1/completions`, body);
    out(
      `bench:serving — ${REQUESTS} completions each (max_tokens ${MAX_TOKENS}, ${written ?? '?'} tokens written, temperature 0, one at a time, interleaved) after ${WARMUP} warm-up rounds`,
    );
    out(
      `replica ${replica}; platform ${p.url} on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}; reference proxy ${ref.url}`,
    );
    for (let i = 0; i < WARMUP; i++) {
      await direct();
      await proxied();
      await bare();
    }
    const d: number[] = [];
    const q: number[] = [];
    const r: number[] = [];
    // The platform's own background work (pollers, health checks), to tell apart from the proxy's.
    const idleFrom = await processUsage(p.pid);
    await new Promise((res) => setTimeout(res, IDLE_MS));
    const idleCpuMsPerS =
      ((await processUsage(p.pid)).cpuSeconds - idleFrom.cpuSeconds) * (1000 / (IDLE_MS / 1000));
    if (profileDir) process.kill(p.pid, 'SIGUSR2');
    const cpuFrom = await processUsage(p.pid);
    const started = Date.now();
    // Each round sends one request to each target, in an order that rotates, so noise weighs on all alike.
    const targets = [
      async () => d.push(await direct()),
      async () => q.push(await proxied()),
      async () => r.push(await bare()),
    ];
    for (let i = 0; i < REQUESTS; i++) {
      if (Date.now() > deadline - 30_000) throw new Error(`stopped after ${i} rounds: out of time`);
      for (let k = 0; k < targets.length; k++) await targets[(i + k) % targets.length]!();
    }
    const seconds = (Date.now() - started) / 1000;
    const cpuMs = ((await processUsage(p.pid)).cpuSeconds - cpuFrom.cpuSeconds) * 1000;
    if (profileDir) {
      process.kill(p.pid, 'SIGUSR2');
      const file = join(profileDir, PROFILE_FILE);
      await waitFor('the CPU profile', async () => existsSync(file), 30_000, 200);
      out(`\nCPU profile of the platform process while measuring: ${file}`);
      for (const line of summariseProfile(JSON.parse(readFileSync(file, 'utf8')), REQUESTS)) out(line);
    }
    const paired = d.map((v, i) => q[i]! - v).sort((a, b) => a - b);
    const pairedRef = d.map((v, i) => r[i]! - v).sort((a, b) => a - b);
    d.sort((a, b) => a - b);
    q.sort((a, b) => a - b);
    r.sort((a, b) => a - b);
    const row = (name: string, s: number[]) =>
      out(
        `${name.padEnd(10)} p50 ${fmt(percentile(s, 50))}  p95 ${fmt(percentile(s, 95))}  p99 ${fmt(percentile(s, 99))}`,
      );
    const addedRow = (name: string, s: number[]) =>
      out(
        `added per round (${name} − direct): p50 ${fmt(percentile(s, 50))}  p95 ${fmt(percentile(s, 95))}  p99 ${fmt(percentile(s, 99))}`,
      );
    out('');
    row('direct', d);
    row('platform', q);
    row('reference', r);
    addedRow('platform', paired);
    addedRow('reference', pairedRef);
    const ratio = percentile(q, 50) / percentile(d, 50);
    const added = percentile(q, 99) - percentile(d, 99);
    const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    out(
      `p50 ratio platform/direct ${ratio.toFixed(3)} — target ≤ ${P50_RATIO_TARGET}: ${pass(ratio <= P50_RATIO_TARGET)}` +
        ` (reference proxy ${(percentile(r, 50) / percentile(d, 50)).toFixed(3)})`,
    );
    out(
      `added at p99 ${fmt(added)} — target ≤ ${P99_ADDED_TARGET_MS} ms: ${pass(added <= P99_ADDED_TARGET_MS)}` +
        ` (reference proxy ${fmt(percentile(r, 99) - percentile(d, 99))})`,
    );
    out(`${3 * REQUESTS} measured requests in ${seconds.toFixed(1)} s`);
    out(
      `platform process CPU: ${(cpuMs / REQUESTS).toFixed(2)} ms per proxied request; idle it uses ${idleCpuMsPerS.toFixed(0)} ms/s, ` +
        `so about ${((cpuMs - idleCpuMsPerS * seconds) / REQUESTS).toFixed(2)} ms per request is the request's own`,
    );
    process.exitCode = ratio <= P50_RATIO_TARGET && added <= P99_ADDED_TARGET_MS ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
