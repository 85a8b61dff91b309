/**
 * Supervision load test: N concurrent runs of the runtime's synthetic mode under one worker — the
 * platform process with its in-process Temporal worker and local executor, started as a child on a
 * fresh LLMOPS_HOME against a headless in-memory Temporal dev server. Jobs go through the HTTP API;
 * LLMOPS_SYNTHETIC_RUNS turns every job into a synthetic run.
 *
 * Measured: CPU (% of one core) and RSS of the platform process, sampled from /proc every 500 ms — the
 * runtime processes are separate processes and not counted — and queued→running latency from the jobs'
 * status_changed events. The platform's idle figures before any submission are the baseline.
 *
 * Jobs arrive at `--rate` per second (0 = all at once, a burst that saturates the machine before any run
 * starts); `--explain` prints the Temporal history timeline of the slowest job to show where its wait went.
 *
 *   npx tsx bench/supervise.ts [--runs 200] [--steps 600] [--step-ms 200] [--rate 5] [--timeout 900] [--explain]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import {
  apiClient,
  killLeftoverRuns,
  linkPythonEnv,
  processUsage,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from '../apps/platform/src/testing/platform-process.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    steps: { type: 'string', default: '600' },
    'step-ms': { type: 'string', default: '200' },
    rate: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '900' },
    explain: { type: 'boolean', default: false },
  },
});
const runs = Math.min(1000, Math.max(1, Number(values.runs)));
const steps = Math.max(1, Number(values.steps));
const stepMs = Math.max(0, Number(values['step-ms']));
const rate = Math.max(0, Number(values.rate));
const timeoutMs = Math.min(3600, Math.max(30, Number(values.timeout))) * 1000;
const SAMPLE_MS = 500;
const EventType = proto.temporal.api.enums.v1.EventType;
const GiB = 1024 ** 3;

interface Sample {
  t: number;
  cpuSeconds: number;
  rssBytes: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
const ms = (v: number) =>
  Number.isNaN(v) ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
const mib = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MiB`;

/** CPU % of one core and peak RSS over the samples within [from, to]. */
function window(samples: Sample[], from: number, to: number) {
  const s = samples.filter((x) => x.t >= from && x.t <= to);
  if (s.length < 2) return { cpu: NaN, rssPeak: NaN, rssEnd: NaN, seconds: 0 };
  const first = s[0]!;
  const last = s.at(-1)!;
  const seconds = (last.t - first.t) / 1000;
  return {
    cpu: (100 * (last.cpuSeconds - first.cpuSeconds)) / seconds,
    rssPeak: Math.max(...s.map((x) => x.rssBytes)),
    rssEnd: last.rssBytes,
    seconds,
  };
}

async function main() {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  const home = await mkdtemp(join(tmpdir(), 'llmops-bench-supervise-'));
  let server: DevServer | null = null;
  let platform: PlatformProcess | null = null;
  const hardStop = setTimeout(() => {
    process.stderr.write(`bench: timed out after ${timeoutMs / 1000} s\n`);
    void cleanup().finally(() => process.exit(2));
  }, timeoutMs);
  async function cleanup() {
    clearTimeout(hardStop);
    await platform?.stop(15_000).catch(() => undefined);
    // The runs are detached from the platform: stop any that are left (each is its own process group).
    await killLeftoverRuns(join(home, 'runs'));
    await server?.stop().catch(() => undefined);
    await rm(home, { recursive: true, force: true }).catch(() => undefined);
  }

  try {
    const cli = await resolveTemporalCli({ home: testHome(), dev: true });
    server = await startTemporalDevServer({ cli, headless: true });
    await linkPythonEnv(home);
    platform = await startPlatformProcess({
      home,
      temporalAddress: server.address,
      token: `bench-${Math.random().toString(36).slice(2)}-token`,
      env: {
        LLMOPS_MAX_CONCURRENT_RUNS: String(runs),
        LLMOPS_SYNTHETIC_RUNS: `${steps}x${stepMs}@${Math.max(1, Math.floor(steps / 4))}`,
      },
    });
    const p = platform;
    const api = apiClient(p);
    await api.uploadCorpus();

    const samples: Sample[] = [];
    const sample = async () => {
      const u = await processUsage(p.pid).catch(() => null);
      if (u) samples.push({ t: Date.now(), ...u });
    };
    await sample();
    const sampler = setInterval(() => void sample(), SAMPLE_MS);

    // Baseline: the idle platform process (API + worker polling Temporal), 5 s.
    const idleFrom = Date.now();
    await new Promise((r) => setTimeout(r, 5_000));
    const idleTo = Date.now();

    // Submit the runs: at `rate` per second, or all at once (16 requests in flight).
    const submitFrom = Date.now();
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < runs) {
          const i = next++;
          const due = rate > 0 ? submitFrom + (i * 1000) / rate : 0;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          ids[i] = (await api.submitPretrain(`bench-${i}`)).id;
        }
      }),
    );
    const submitTo = Date.now();
    process.stdout.write(`submitted ${runs} jobs in ${ms(submitTo - submitFrom)}\n`);

    const count = async (status: string) =>
      (
        (await (
          await fetch(`${p.api}/training/jobs?status=${status}&limit=1`, {
            headers: { authorization: `Bearer ${p.token}` },
          })
        ).json()) as { data: { total: number } }
      ).data.total;
    // All running (steady supervision starts) — or the first run already ended — then all done.
    let peakRunning = 0;
    await waitFor(
      'every run RUNNING',
      async () => {
        const running = await count('RUNNING');
        peakRunning = Math.max(peakRunning, running);
        return running >= runs || (await count('SUCCEEDED')) > 0;
      },
      left(),
      1_000,
    );
    const allRunningAt = Date.now();
    const firstDoneAt = await waitFor(
      'a run to finish',
      async () => ((await count('SUCCEEDED')) > 0 ? Date.now() : null),
      left(),
      1_000,
    );
    const done = await waitFor(
      'every run to end',
      async () => {
        const [ok, failed] = [await count('SUCCEEDED'), await count('FAILED')];
        return ok + failed >= runs ? { ok, failed, at: Date.now() } : null;
      },
      left(),
      2_000,
    );
    clearInterval(sampler);
    await sample();

    // Latencies from the events: QUEUED (job created) → ADMITTED → RUNNING.
    const toRunning: number[] = [];
    const toAdmitted: number[] = [];
    for (const id of ids) {
      const [job, events] = await Promise.all([
        fetch(`${p.api}/training/jobs/${id}`, { headers: { authorization: `Bearer ${p.token}` } })
          .then((r) => r.json() as Promise<{ data: { createdAt: string } }>)
          .then((r) => r.data),
        api.events(id),
      ]);
      const at = (status: string) => {
        const e = events.find((x) => x.type === 'status_changed' && x.toStatus === status);
        return e ? Date.parse(e.createdAt) : NaN;
      };
      const queued = Date.parse(job.createdAt);
      toAdmitted.push(at('ADMITTED') - queued);
      toRunning.push(at('RUNNING') - queued);
    }
    const sorted = (a: number[]) => a.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
    const slowest = ids[toRunning.indexOf(Math.max(...toRunning.filter((x) => !Number.isNaN(x))))];
    const explained = values.explain && slowest ? await explain(server.address, slowest) : [];
    const [run, adm] = [sorted(toRunning), sorted(toAdmitted)];

    const idle = window(samples, idleFrom, idleTo);
    const ramp = window(samples, submitFrom, allRunningAt);
    const steady = window(samples, allRunningAt, firstDoneAt);
    const whole = window(samples, submitFrom, done.at);
    const rssPeak = Math.max(...samples.map((s) => s.rssBytes));

    const rows: [string, string, string, string][] = [
      ['phase', 'seconds', 'CPU (% of one core)', 'RSS peak'],
      ['idle baseline (before submitting)', idle.seconds.toFixed(1), idle.cpu.toFixed(1), mib(idle.rssPeak)],
      ['submit + start (until all RUNNING)', ramp.seconds.toFixed(1), ramp.cpu.toFixed(1), mib(ramp.rssPeak)],
      [
        `steady: ${runs} runs supervised`,
        steady.seconds.toFixed(1),
        steady.cpu.toFixed(1),
        mib(steady.rssPeak),
      ],
      ['whole run (submit → all ended)', whole.seconds.toFixed(1), whole.cpu.toFixed(1), mib(whole.rssPeak)],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
    const out = [
      '',
      `${runs} synthetic runs (${steps} steps × ${stepMs} ms) under one platform process (worker in-process), pid ${p.pid}`,
      'CPU and RSS are those of the platform process only; the runtime processes are not counted.',
      '',
      line(rows[0]!),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.slice(1).map(line),
      '',
      `queued→admitted  p50 ${ms(percentile(adm, 50))}  p99 ${ms(percentile(adm, 99))}  max ${ms(adm.at(-1) ?? NaN)}`,
      `queued→running   p50 ${ms(percentile(run, 50))}  p99 ${ms(percentile(run, 99))}  max ${ms(run.at(-1) ?? NaN)}  (n=${run.length})`,
      `peak RUNNING at once: ${peakRunning}; outcome: ${done.ok} SUCCEEDED, ${done.failed} FAILED; submission took ${ms(submitTo - submitFrom)} (${rate > 0 ? `${rate} jobs/s` : 'burst'})`,
      ...explained,
      '',
      'verdict:',
      `  steady CPU ≤ 25 % of one core: ${steady.cpu.toFixed(1)} % → ${steady.cpu <= 25 ? 'PASS' : 'FAIL'}`,
      `  RSS ≤ 1 GiB (peak over the whole run): ${mib(rssPeak)} → ${rssPeak <= GiB ? 'PASS' : 'FAIL'}`,
      `  queued→running p99 ≤ 2 s with free capacity: ${ms(percentile(run, 99))} → ${percentile(run, 99) <= 2000 ? 'PASS' : 'FAIL'}`,
      `  all runs SUCCEEDED: ${done.ok}/${runs} → ${done.ok === runs ? 'PASS' : 'FAIL'}`,
      '',
    ];
    process.stdout.write(out.join('\n'));
  } finally {
    await cleanup();
  }
}

/** The workflow history of one job as offsets from its start, to see where a slow start waited. */
async function explain(address: string, jobId: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const history = await new Client({ connection }).workflow.getHandle(jobId).fetchHistory();
    const events = history.events ?? [];
    const t0 = tsMs(events[0]?.eventTime);
    const lines = [``, `slowest job ${jobId}, history until the run activity started:`];
    for (const e of events) {
      const type = String(EventType[e.eventType ?? 0] ?? e.eventType).replace('EVENT_TYPE_', '');
      lines.push(`  +${ms(tsMs(e.eventTime) - t0).padStart(9)}  ${type}`);
      if (type === 'ACTIVITY_TASK_STARTED' && lines.length > 12) break;
    }
    return lines;
  } finally {
    await connection.close();
  }
}

function tsMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
