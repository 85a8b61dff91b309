import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  killLeftoverRuns,
  linkPythonEnv,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from './testing/platform-process.ts';

// The platform process (API + in-process worker + local executor) as a child process against a real
// Temporal dev server with a SQLite file and the real runtime in its synthetic mode
// (LLMOPS_SYNTHETIC_RUNS): SIGKILL of the platform during a run, and a restart of Temporal.
//
// The runtime is detached, so it keeps running while no platform exists. A killed worker's run activity
// is handed to the next worker when its heartbeat timeout (60 s) expires; that worker re-attaches to the
// same attempt, replays its events and records the outcome.

let dir: string;
let cli: string;
const servers: DevServer[] = [];
const platforms: PlatformProcess[] = [];
const homes: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-crash-'));
  cli = await resolveTemporalCli({ home: testHome(), dev: true });
});

afterAll(async () => {
  for (const p of platforms) await p.kill9();
  for (const home of homes) await killLeftoverRuns(join(home, 'runs'));
  for (const server of servers) await server.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Each test has its own server (SQLite file) so no other test's worker shares its task queue. */
async function startServer(dbFile: string, port?: number): Promise<DevServer> {
  const server = await startTemporalDevServer({ cli, headless: true, dbFile, port });
  servers.push(server);
  return server;
}

async function newHome(name: string): Promise<string> {
  const home = join(dir, name);
  await linkPythonEnv(home);
  homes.push(home);
  return home;
}

async function platform(home: string, server: DevServer, synthetic: string): Promise<PlatformProcess> {
  const p = await startPlatformProcess({
    home,
    temporalAddress: server.address,
    token: 'crash-recovery-bootstrap-token',
    env: { LLMOPS_SYNTHETIC_RUNS: synthetic, LLMOPS_MAX_CONCURRENT_RUNS: '2' },
  });
  platforms.push(p);
  return p;
}

interface RuntimeLine {
  type: string;
  step?: number;
  status?: string;
}
async function runtimeEvents(home: string, jobId: string, attempt = 1): Promise<RuntimeLine[]> {
  const text = await readFile(join(home, 'runs', jobId, `attempt-${attempt}`, 'events.jsonl'), 'utf8').catch(
    () => '',
  );
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RuntimeLine);
}
const lastStep = async (home: string, jobId: string) =>
  Math.max(0, ...(await runtimeEvents(home, jobId)).filter((e) => e.type === 'progress').map((e) => e.step!));

/** The runtime (python) processes of a job, from /proc: its environment names the job. */
async function runtimePids(jobId: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [cmdline, environ] = await Promise.all([
      readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''),
      readFile(`/proc/${entry}/environ`, 'utf8').catch(() => ''),
    ]);
    if (cmdline.includes('llmops_runtime') && !cmdline.includes('llmops-attempt'))
      if (environ.split('\0').includes(`LLMOPS_JOB_ID=${jobId}`)) pids.push(Number(entry));
  }
  return pids;
}

/** Samples the job's runtime processes every 100 ms: the most seen at once and every pid seen. */
function watchRuntime(jobId: string) {
  const seen = new Set<number>();
  let most = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const pids = await runtimePids(jobId);
      pids.forEach((p) => seen.add(p));
      most = Math.max(most, pids.length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { most, seen: [...seen] };
    },
  };
}

describe('crash recovery of the platform process', () => {
  it('survives 5 SIGKILLs of the platform during a run: one runtime process, resumed, SUCCEEDED', async () => {
    const home = await newHome('kill9');
    const server = await startServer(join(dir, 'kill9.db'));
    // 120 steps of 700 ms (84 s: a platform restart takes several seconds, the workflow bundle included),
    // a checkpoint every 10 steps.
    const synthetic = '120x700@10';
    let p = await platform(home, server, synthetic);
    const api = apiClient(p);
    await api.uploadCorpus();
    const job = await api.submitPretrain('crash-lm');
    const watch = watchRuntime(job.id);

    const kills: { step: number; runtimePid: number }[] = [];
    for (let i = 0; i < 5; i++) {
      // Progress since the last kill, then SIGKILL at a different moment after readiness each time.
      const before = await lastStep(home, job.id);
      await waitFor(
        `runtime progress past step ${before}`,
        async () => (await lastStep(home, job.id)) > before,
        30_000,
      );
      await new Promise((r) => setTimeout(r, 100 * i));
      const runJson = JSON.parse(
        await readFile(join(home, 'runs', job.id, 'attempt-1', 'run.json'), 'utf8'),
      ) as {
        pid: number;
      };
      kills.push({ step: await lastStep(home, job.id), runtimePid: runJson.pid });
      await p.kill9();
      p = await platform(home, server, synthetic);
    }
    expect(kills.at(-1)!.step).toBeLessThan(120); // every kill landed during the run

    const client = apiClient(p);
    await waitFor('SUCCEEDED', async () => (await client.job(job.id)).status === 'SUCCEEDED', 120_000, 500);
    const runtime = await watch.stop();

    // Never two runtime processes, and the same one throughout: every kill saw the same wrapper.
    expect(runtime.most).toBe(1);
    expect(runtime.seen).toHaveLength(1);
    expect(new Set(kills.map((k) => k.runtimePid)).size).toBe(1);
    expect((await readdir(join(home, 'runs', job.id))).filter((d) => d.startsWith('attempt-'))).toEqual([
      'attempt-1',
    ]);
    // The wrapper recorded the exit itself (not the supervisor after a lost process).
    const exit = JSON.parse(await readFile(join(home, 'runs', job.id, 'attempt-1', 'exit.json'), 'utf8')) as {
      exitCode: number | null;
      recordedBy: string;
    };
    expect(exit).toMatchObject({ exitCode: 0, recordedBy: 'wrapper' });

    // The run continued: one start, steps 1..120 once each, and the events record each step once.
    const lines = await runtimeEvents(home, job.id);
    expect(lines.filter((e) => e.type === 'started')).toHaveLength(1);
    expect(lines.filter((e) => e.type === 'progress').map((e) => e.step)).toEqual(
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    const events = await client.events(job.id);
    const transitions = events
      .filter((e) => e.type === 'status_changed')
      .map((e) => `${e.fromStatus ?? ''}→${e.toStatus ?? ''}`);
    expect(transitions.filter((t) => t.endsWith('→RUNNING'))).toHaveLength(1);
    expect(transitions.at(-1)).toBe('RUNNING→SUCCEEDED');
    const metricSteps = events
      .filter((e) => e.type === 'metrics')
      .flatMap((e) => (e.detail.points as { step: number }[]).map((pt) => pt.step));
    expect(metricSteps).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.detail.step)).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110,
    ]);
    for (const q of platforms.splice(0)) await q.kill9();
  }, 180_000);

  it('finishes a run across a restart of the Temporal dev server (same SQLite file)', async () => {
    const home = await newHome('temporal-restart');
    const dbFile = join(dir, 'restart.db');
    let server = await startServer(dbFile);
    const p = await platform(home, server, '40x300@5'); // 12 s
    const api = apiClient(p);
    await api.uploadCorpus();
    const job = await api.submitPretrain('temporal-restart-lm');
    await waitFor('step 3', async () => (await lastStep(home, job.id)) >= 3, 30_000);

    const port = Number(server.address.split(':').at(-1));
    await server.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    server = await startServer(dbFile, port);

    await waitFor('SUCCEEDED', async () => (await api.job(job.id)).status === 'SUCCEEDED', 90_000, 500);
    expect((await readdir(join(home, 'runs', job.id))).filter((d) => d.startsWith('attempt-'))).toEqual([
      'attempt-1',
    ]);
    const lines = await runtimeEvents(home, job.id);
    expect(lines.filter((e) => e.type === 'started')).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ type: 'result', status: 'succeeded' });
  }, 120_000);
});
