/**
 * Open-loop load test of job submission against the real platform process on loopback.
 * Requests are fired on a fixed schedule whether or not earlier ones finished (open loop), so queueing
 * shows up in the latencies instead of silently lowering the rate. The same schedule against the
 * trivial liveness route of the same process is the baseline; ratios compare the two.
 *
 *   npm run bench:submit            # 10, 50 and 200 requests/s, 5 s each
 *   npm run bench:submit -- --seconds 10 --rates 50
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { QUICKSTART_DATASET, QUICKSTART_MODEL, quickstartJobBody } from '@llmops/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rates: { type: 'string', default: '10,50,200' } },
});
const seconds = Math.min(60, Math.max(1, Number(values.seconds)));
const rates = values
  .rates!.split(',')
  .map(Number)
  .filter((r) => r > 0 && r <= 1000);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const home = await mkdtemp(join(tmpdir(), 'llmops-bench-'));
  const port = await freePort();
  const token = `bench-${Math.random().toString(36).slice(2)}-token`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps/platform/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      LLMOPS_HOME: home,
      PORT: String(port),
      LLMOPS_BOOTSTRAP_TOKEN: token,
      LOG_LEVEL: 'silent',
      DATABASE_URL: process.env.DATABASE_URL ?? '',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}/llm-ops/v1`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    for (let i = 0; ; i++) {
      if (i > 300) throw new Error('platform did not become ready in 60 s');
      const ok = await fetch(`${base}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<any>,
      );
    const model = await post('/catalog/models', QUICKSTART_MODEL);
    const dataset = await post('/catalog/datasets', QUICKSTART_DATASET);
    const job = quickstartJobBody(model.data.id, dataset.data.id);
    let seq = 0;
    const routes = {
      submit: () =>
        fetch(`${base}/training/jobs`, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': `bench-${seq++}` },
          body: JSON.stringify(job),
        }),
      trivial: () => fetch(`${base}/health/live`),
    };
    // Warm-up so JIT and connection set-up do not land in the first measured rate.
    for (let i = 0; i < 30; i++) await Promise.all([routes.submit(), routes.trivial()]);

    const measure = async (fn: () => Promise<Response>, rate: number) => {
      const total = rate * seconds;
      const latencies: number[] = [];
      let errors = 0;
      const start = performance.now();
      const pending: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const t0 = performance.now();
        pending.push(
          fn().then(
            async (res) => {
              await res.arrayBuffer();
              if (res.status >= 400) errors++;
              latencies.push(performance.now() - t0);
            },
            () => {
              errors++;
            },
          ),
        );
      }
      await Promise.all(pending);
      latencies.sort((a, b) => a - b);
      return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length, errors };
    };

    console.log(
      `open-loop, ${seconds} s per rate, loopback, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}`,
    );
    console.log('rate/s  route    n     errors  p50 ms  p99 ms  p50 ratio  p99 ratio');
    for (const rate of rates) {
      const trivial = await measure(routes.trivial, rate);
      const submit = await measure(routes.submit, rate);
      const row = (name: string, r: typeof submit, ratio: string) =>
        console.log(
          `${String(rate).padEnd(7)} ${name.padEnd(8)} ${String(r.n).padEnd(5)} ${String(r.errors).padEnd(7)} ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(6)}  ${ratio}`,
        );
      row('trivial', trivial, '1.00       1.00');
      row(
        'submit',
        submit,
        `${(submit.p50 / trivial.p50).toFixed(2).padEnd(10)} ${(submit.p99 / trivial.p99).toFixed(2)}`,
      );
      if (rate === 50)
        console.log(
          `target: submit p99 < 50 ms at 50 requests/s → ${submit.p99 < 50 ? 'met' : 'NOT met'} (${submit.p99.toFixed(2)} ms)`,
        );
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(home, { recursive: true, force: true });
  }
}

await main();
