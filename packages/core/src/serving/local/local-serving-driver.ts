import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ReplicaStatus,
  RevisionDeployment,
  RevisionStatus,
  ServingDriver,
  TrafficWeights,
} from '../backend.ts';
import { resolveModelFiles } from './model-files.ts';
import {
  logTail,
  reapRecordedReplicas,
  reapRevisionDir,
  replicaPaths,
  spawnReplica,
  stopReplica,
  type ReplicaPaths,
  type ReplicaRecord,
} from './replica-process.ts';

export interface LocalServingDriverOptions {
  /** `<LLMOPS_HOME>/serving`: per revision, the replicas' pid records, port files and logs. */
  stateDir: string;
  /** `<LLMOPS_HOME>/artifacts`: the local artifact store that `s3://bucket/key` storage URIs point into. */
  artifactsDir: string;
  /** The Python of the project's venv (the one with llmops_runtime installed). */
  python: string;
  /** Loopback address the servers listen on. Default 127.0.0.1. */
  host?: string;
  /** A replica not ready this long after its start fails the revision. Default 120 s. */
  readyTimeoutMs?: number;
  /** A replica that exits this many times before ever becoming ready fails the revision. Default 3. */
  maxStartupCrashes?: number;
  /** First restart delay after a crash, doubled per consecutive crash up to `maxRestartDelayMs`. Default 500 ms. */
  restartDelayMs?: number;
  /** Default 30 s. */
  maxRestartDelayMs?: number;
  /** Between SIGTERM and SIGKILL when stopping a replica. Default 5 s. */
  stopGraceMs?: number;
  /** How often starting replicas are probed on /ready. Default 250 ms. */
  pollIntervalMs?: number;
  /** torch CPU threads per replica (the server's --threads); default: torch's own choice. */
  threadsPerReplica?: number;
  /** Added to the servers' environment. The platform's own (database URL, tokens) is not passed on. */
  env?: Record<string, string>;
  /** Where the driver says what it did on its own (reaped servers, restarts). */
  log?: (message: string) => void;
}

/** The model server exits with this code when its model folder is missing or cannot be loaded. */
export const MODEL_SERVER_EXIT_BAD_MODEL = 30;
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'];
const PROBE_TIMEOUT_MS = 2_000;

interface Replica {
  id: string;
  paths: ReplicaPaths;
  state: ReplicaStatus['state'];
  url: string | null;
  message: string | null;
  restarts: number;
  /** Exits in a row without becoming ready in between. */
  crashesBeforeReady: number;
  consecutiveCrashes: number;
  everReady: boolean;
  child: ChildProcess | null;
  record: ReplicaRecord | null;
  logOffset: number;
  startedAt: number;
  probing: boolean;
  restartTimer: NodeJS.Timeout | null;
}

interface Revision {
  key: string;
  deployment: RevisionDeployment;
  dir: string;
  modelDir: string | null;
  replicas: Replica[];
  /** Set when the revision failed for good; its replicas are stopped. */
  failure: string | null;
  removing: boolean;
  next: number;
}

const keyOf = (endpointId: string, revisionId: string) => `${endpointId}\u0000${revisionId}`;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The `local` serving backend: each replica of a revision is a model server process
 * (`python -m llmops_runtime serve`) on a free loopback port. The platform's router splits traffic, so
 * `setTraffic` is a no-op. See docs/decisions/0015-local-model-server.md.
 */
export function createLocalServingDriver(opts: LocalServingDriverOptions): ServingDriver {
  const cfg = {
    host: opts.host ?? '127.0.0.1',
    readyTimeoutMs: opts.readyTimeoutMs ?? 120_000,
    maxStartupCrashes: opts.maxStartupCrashes ?? 3,
    restartDelayMs: opts.restartDelayMs ?? 500,
    maxRestartDelayMs: opts.maxRestartDelayMs ?? 30_000,
    stopGraceMs: opts.stopGraceMs ?? 5_000,
    pollIntervalMs: Math.max(50, opts.pollIntervalMs ?? 250),
  };
  const log = opts.log ?? (() => {});
  const revisions = new Map<string, Revision>();
  let closed = false;
  let timer: NodeJS.Timeout | null = null;

  mkdirSync(opts.stateDir, { recursive: true });
  const reaped = reapRecordedReplicas(opts.stateDir);
  if (reaped > 0) log(`local serving: stopped ${reaped} model server(s) left by an earlier platform process`);

  const baseEnv: NodeJS.ProcessEnv = { PYTHONUNBUFFERED: '1' };
  for (const k of INHERITED_ENV) if (process.env[k] !== undefined) baseEnv[k] = process.env[k];
  Object.assign(baseEnv, opts.env ?? {});

  const syncTimer = () => {
    const starting = [...revisions.values()].some((r) => r.replicas.some((p) => p.state === 'starting'));
    if (starting && timer === null) {
      timer = setInterval(() => void probeAll(), cfg.pollIntervalMs);
      timer.unref();
    } else if (!starting && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };

  function serverArgs(rev: Revision, paths: ReplicaPaths): string[] {
    const d = rev.deployment;
    const args = [
      '-m',
      'llmops_runtime',
      'serve',
      '--model',
      rev.modelDir!,
      '--model-name',
      d.endpointName ?? d.model.name,
      '--host',
      cfg.host,
      '--port',
      '0',
      '--port-file',
      paths.portFile,
      '--serve-target',
      d.spec.serve_target,
      '--max-input-tokens',
      String(d.spec.runtime.max_input_tokens),
      '--max-output-tokens',
      String(d.spec.runtime.max_output_tokens),
    ];
    if (opts.threadsPerReplica) args.push('--threads', String(opts.threadsPerReplica));
    return args;
  }

  function startReplica(rev: Revision, r: Replica): void {
    r.state = 'starting';
    r.url = null;
    r.startedAt = Date.now();
    r.restartTimer = null;
    const spawned = spawnReplica({
      command: [opts.python],
      args: serverArgs(rev, r.paths),
      env: baseEnv,
      paths: r.paths,
      header: `--- ${new Date().toISOString()} start of replica ${r.id} (restart ${r.restarts})`,
    });
    r.child = spawned.child;
    r.record = spawned.record;
    r.logOffset = spawned.logOffset;
    const child = spawned.child;
    child.once('error', (e) => {
      if (r.child !== child) return;
      r.child = null;
      void failRevision(rev, `replica ${r.id}: cannot start ${opts.python}: ${e.message}`);
    });
    child.once('exit', (code, signal) => {
      if (r.child !== child) return;
      r.child = null;
      void onExit(rev, r, code, signal);
    });
    syncTimer();
  }

  async function onExit(rev: Revision, r: Replica, code: number | null, signal: NodeJS.Signals | null) {
    if (rev.removing || rev.failure !== null || closed) return;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const wasReady = r.state === 'ready';
    r.state = 'starting';
    r.url = null;
    const tail = await logTail(r.paths.logFile, r.logOffset);
    if (rev.removing || rev.failure !== null || closed) return;
    if (code === MODEL_SERVER_EXIT_BAD_MODEL) {
      await failRevision(rev, `replica ${r.id}: the model server cannot load the model:\n${tail}`);
      return;
    }
    if (!wasReady) r.crashesBeforeReady++;
    if (r.crashesBeforeReady >= cfg.maxStartupCrashes) {
      await failRevision(
        rev,
        `replica ${r.id} ${how} ${r.crashesBeforeReady} times before becoming ready; last lines of its log:\n${tail}`,
      );
      return;
    }
    r.consecutiveCrashes++;
    r.restarts++;
    const delay = Math.min(cfg.maxRestartDelayMs, cfg.restartDelayMs * 2 ** (r.consecutiveCrashes - 1));
    r.message = `replica ${r.id} ${how}; restart ${r.restarts} in ${(delay / 1000).toFixed(1)} s${tail ? `; last lines of its log:\n${tail}` : ''}`;
    log(
      `local serving ${rev.deployment.endpointId}/${rev.deployment.revisionId}: ${r.message.split('\n')[0]}`,
    );
    r.restartTimer = setTimeout(() => {
      if (!rev.removing && rev.failure === null && !closed) startReplica(rev, r);
    }, delay);
    r.restartTimer.unref();
  }

  async function failRevision(rev: Revision, message: string): Promise<void> {
    if (rev.failure !== null || rev.removing) return;
    rev.failure = message;
    log(
      `local serving ${rev.deployment.endpointId}/${rev.deployment.revisionId} failed: ${message.split('\n')[0]}`,
    );
    await stopAll(rev, 'failed');
    syncTimer();
  }

  async function stopAll(rev: Revision, state: 'failed' | 'stopped'): Promise<void> {
    await Promise.all(
      rev.replicas.map(async (r) => {
        if (r.restartTimer) clearTimeout(r.restartTimer);
        r.restartTimer = null;
        r.child = null; // its exit is expected now
        r.url = null;
        r.state = state;
        if (r.record) await stopReplica(r.record, cfg.stopGraceMs);
        rmSync(r.paths.pidFile, { force: true });
        rmSync(r.paths.portFile, { force: true });
      }),
    );
  }

  async function probe(rev: Revision, r: Replica): Promise<void> {
    if (r.state !== 'starting' || r.child === null || r.probing) return;
    if (Date.now() - r.startedAt > cfg.readyTimeoutMs) {
      const tail = await logTail(r.paths.logFile, r.logOffset);
      await failRevision(
        rev,
        `replica ${r.id} did not become ready within ${Math.round(cfg.readyTimeoutMs / 1000)} s${tail ? `; last lines of its log:\n${tail}` : ''}`,
      );
      return;
    }
    r.probing = true;
    try {
      if (r.url === null) {
        let port: number;
        try {
          port = Number(readFileSync(r.paths.portFile, 'utf8').trim());
        } catch {
          return; // not listening yet
        }
        if (!Number.isInteger(port) || port <= 0) return;
        r.url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;
      }
      const res = await fetch(`${r.url}/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).catch(
        () => null,
      );
      await res?.body?.cancel();
      if (res?.status === 200 && r.state === 'starting' && r.child !== null && !rev.removing) {
        r.state = 'ready';
        r.everReady = true;
        r.crashesBeforeReady = 0;
        r.consecutiveCrashes = 0;
        r.message = null;
      }
    } finally {
      r.probing = false;
      syncTimer();
    }
  }

  async function probeAll(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const rev of revisions.values()) for (const r of rev.replicas) work.push(probe(rev, r));
    await Promise.all(work);
  }

  function statusOf(rev: Revision): RevisionStatus {
    const d = rev.deployment;
    const replicas: ReplicaStatus[] = rev.replicas.map((r) => ({
      id: r.id,
      state: r.state,
      url: r.state === 'ready' ? r.url : null,
      message: r.message,
      restarts: r.restarts,
    }));
    const ready = replicas.filter((r) => r.state === 'ready').length;
    const allEverReady = rev.replicas.every((r) => r.everReady);
    let state: RevisionStatus['state'];
    let message: string | null = null;
    if (rev.removing) state = 'removed';
    else if (rev.failure !== null) {
      state = 'failed';
      message = rev.failure;
    } else if (ready === replicas.length || (allEverReady && ready > 0)) {
      // Once every replica has been ready, one restarting replica degrades the revision but it still serves.
      state = 'ready';
      if (ready < replicas.length)
        message = `${ready} of ${replicas.length} replicas ready; ${rev.replicas.find((r) => r.state !== 'ready')?.message ?? 'restarting'}`;
    } else {
      state = 'deploying';
      message = `${ready} of ${replicas.length} replicas ready`;
    }
    return {
      endpointId: d.endpointId,
      revisionId: d.revisionId,
      state,
      replicas,
      message,
      details: {
        modelDir: rev.modelDir,
        logDir: rev.dir,
        pids: rev.replicas.map((r) => (r.child ? (r.record?.pid ?? null) : null)),
      },
    };
  }

  function unknownStatus(endpointId: string, revisionId: string): RevisionStatus {
    return {
      endpointId,
      revisionId,
      state: 'removed',
      replicas: [],
      message: 'not deployed by this platform process',
    };
  }

  function checkDeployment(d: RevisionDeployment): void {
    if (!SAFE_ID.test(d.endpointId) || !SAFE_ID.test(d.revisionId))
      throw new Error(
        `endpoint and revision ids must be 1-128 letters, digits, '.', '_' or '-' (got '${d.endpointId}', '${d.revisionId}')`,
      );
    if (!Number.isInteger(d.replicas) || d.replicas < 1 || d.replicas > 64)
      throw new Error(`replicas must be an integer from 1 to 64, got ${d.replicas}`);
  }

  return {
    name: 'local',
    splitsTraffic: false,

    async deploy(d) {
      if (closed) throw new Error('the local serving driver is closed');
      checkDeployment(d);
      const key = keyOf(d.endpointId, d.revisionId);
      const existing = revisions.get(key);
      if (existing && !existing.removing) return statusOf(existing);
      const dir = join(opts.stateDir, d.endpointId, d.revisionId);
      const files = resolveModelFiles(d.model, opts.artifactsDir);
      const rev: Revision = {
        key,
        deployment: d,
        dir,
        modelDir: files.ok ? files.dir : null,
        replicas: Array.from({ length: d.replicas }, (_, i): Replica => {
          const id = `r${i}`;
          return {
            id,
            paths: replicaPaths(dir, id),
            state: 'starting',
            url: null,
            message: null,
            restarts: 0,
            crashesBeforeReady: 0,
            consecutiveCrashes: 0,
            everReady: false,
            child: null,
            record: null,
            logOffset: 0,
            startedAt: Date.now(),
            probing: false,
            restartTimer: null,
          };
        }),
        failure: null,
        removing: false,
        next: 0,
      };
      revisions.set(key, rev);
      if (!files.ok) {
        rev.failure = files.message;
        for (const r of rev.replicas) r.state = 'failed';
        return statusOf(rev);
      }
      mkdirSync(dir, { recursive: true });
      for (const r of rev.replicas) startReplica(rev, r);
      return statusOf(rev);
    },

    async status(endpointId, revisionId) {
      const rev = revisions.get(keyOf(endpointId, revisionId));
      return rev ? statusOf(rev) : unknownStatus(endpointId, revisionId);
    },

    async waitReady(endpointId, revisionId, { timeoutMs, signal }) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        signal?.throwIfAborted();
        const rev = revisions.get(keyOf(endpointId, revisionId));
        if (!rev) return unknownStatus(endpointId, revisionId);
        const st = statusOf(rev);
        if (st.state !== 'deploying') return st;
        if (Date.now() >= deadline)
          throw new Error(
            `revision ${revisionId} of endpoint ${endpointId} not ready after ${timeoutMs} ms: ${st.message}`,
          );
        await sleep(Math.min(cfg.pollIntervalMs, Math.max(1, deadline - Date.now())));
      }
    },

    async setTraffic(_endpointId: string, _weights: TrafficWeights) {
      // The platform's router splits traffic between local revisions.
    },

    async remove(endpointId, revisionId) {
      const key = keyOf(endpointId, revisionId);
      const rev = revisions.get(key);
      if (rev) {
        rev.removing = true;
        await stopAll(rev, 'stopped');
        revisions.delete(key);
        syncTimer();
        return;
      }
      // Not known to this process: still make sure nothing recorded for it runs (logs are kept).
      if (SAFE_ID.test(endpointId) && SAFE_ID.test(revisionId))
        reapRevisionDir(join(opts.stateDir, endpointId, revisionId));
    },

    target(endpointId, revisionId) {
      const rev = revisions.get(keyOf(endpointId, revisionId));
      if (!rev || rev.removing || rev.failure !== null) return null;
      const n = rev.replicas.length;
      for (let i = 0; i < n; i++) {
        const r = rev.replicas[(rev.next + i) % n]!;
        if (r.state === 'ready' && r.url !== null) {
          rev.next = (rev.next + i + 1) % n;
          return r.url;
        }
      }
      return null;
    },

    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      await Promise.all(
        [...revisions.values()].map(async (rev) => {
          rev.removing = true;
          await stopAll(rev, 'stopped');
        }),
      );
      revisions.clear();
    },
  };
}
