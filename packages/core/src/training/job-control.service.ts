import { open, readdir, stat } from 'node:fs/promises';
import type { Db, JobRow } from '@llmops/db';
import { assertCompliant } from '../compliance/compliance.service.ts';
import { createError, notFound } from '../errors.ts';
import { actorLabel, requireRole, type Actor } from '../identity/actor.ts';
import type { JobOrchestrator } from './orchestrator.ts';

/** Where the executor keeps each attempt's combined log. */
export interface JobLogLocator {
  attempts(jobId: string): Promise<number[]>;
  logPath(jobId: string, attempt: number): string;
}

export const TERMINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Attempt directories named `attempt-<n>` under `<runsDir>/<jobId>/`. */
export function attemptsUnder(runsDir: string) {
  return async (jobId: string): Promise<number[]> => {
    const names = await readdir(`${runsDir}/${jobId}`).catch(() => [] as string[]);
    return names
      .map((n) => /^attempt-(\d+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  };
}

/**
 * Controls of a stored job (SPEC C2): cancel, pause, resume, retry, priority, and its logs. Every control
 * checks the caller's role in the job's project; running again (resume, retry) also requires the job to be
 * compliant with the current rules (FR-031).
 */
export function createJobControlService(deps: {
  db: Db;
  orchestrator: () => JobOrchestrator | null;
  logs: JobLogLocator | null;
}) {
  const { repos } = deps.db;

  async function jobFor(actor: Actor, jobId: string, role: 'viewer' | 'editor'): Promise<JobRow> {
    const project = requireRole(actor, role);
    const job = await repos.jobs.getById(project.id, jobId);
    if (!job) throw notFound('Training job', jobId);
    return job;
  }

  function orchestrator(): JobOrchestrator {
    const o = deps.orchestrator();
    if (!o)
      throw createError(
        'UNAVAILABLE',
        'Job execution is not available: the workflow engine is not configured or not running',
      );
    return o;
  }

  return {
    async cancel(actor: Actor, jobId: string) {
      const job = await jobFor(actor, jobId, 'editor');
      if (TERMINAL_STATES.has(job.status))
        throw createError('CONFLICT', `Job ${jobId} is already ${job.status}`);
      await orchestrator().cancel(jobId, actorLabel(actor));
    },
    async pause(actor: Actor, jobId: string) {
      await jobFor(actor, jobId, 'editor');
      await orchestrator().pause(jobId, actorLabel(actor));
    },
    async resume(actor: Actor, jobId: string) {
      const job = await jobFor(actor, jobId, 'editor');
      assertCompliant(job, 'Training job');
      await orchestrator().resume(jobId, actorLabel(actor));
    },
    async retry(actor: Actor, jobId: string, fromCheckpoint?: string) {
      const job = await jobFor(actor, jobId, 'editor');
      assertCompliant(job, 'Training job');
      if (job.status !== 'FAILED' && job.status !== 'CANCELLED')
        throw createError(
          'CONFLICT',
          `Job ${jobId} is ${job.status}; only FAILED or CANCELLED jobs can be retried`,
        );
      await orchestrator().retry(jobId, actorLabel(actor), fromCheckpoint);
    },
    async setPriority(actor: Actor, jobId: string, priority: number) {
      const job = await jobFor(actor, jobId, 'editor');
      if (TERMINAL_STATES.has(job.status))
        throw createError('CONFLICT', `Job ${jobId} is ${job.status}; its priority no longer matters`);
      await orchestrator().setPriority(jobId, priority, actorLabel(actor));
    },
    async queuePosition(jobId: string) {
      const o = deps.orchestrator();
      if (!o) return null;
      return o.queuePosition(jobId).catch(() => null);
    },

    /** The tail of an attempt's log (default: the latest attempt). */
    async logs(actor: Actor, jobId: string, q: { attempt?: number | undefined; tail: number }) {
      const job = await jobFor(actor, jobId, 'viewer');
      const attempts = deps.logs ? await deps.logs.attempts(jobId) : [];
      const attempt = q.attempt ?? attempts.at(-1) ?? null;
      if (attempt === null || !deps.logs)
        return { jobId, status: job.status, attempt: null, attempts, lines: [] as string[] };
      if (!attempts.includes(attempt)) throw notFound(`Attempt ${attempt} of job`, jobId);
      const text = await readTail(deps.logs.logPath(jobId, attempt), 4 * 1024 * 1024);
      const lines = text.split('\n').filter((l) => l.length > 0);
      return { jobId, status: job.status, attempt, attempts, lines: lines.slice(-q.tail) };
    },

    /** For the SSE stream: the job as the caller may see it, and where its newest log is. */
    async streamTarget(actor: Actor, jobId: string) {
      await jobFor(actor, jobId, 'viewer');
      const project = actor.project!;
      const attempts = deps.logs ? await deps.logs.attempts(jobId) : [];
      return {
        latestLog: async () => {
          const all = deps.logs ? await deps.logs.attempts(jobId) : attempts;
          const n = all.at(-1);
          return n === undefined || !deps.logs ? null : { attempt: n, path: deps.logs.logPath(jobId, n) };
        },
        status: async () => (await repos.jobs.getById(project.id, jobId))?.status ?? 'CANCELLED',
      };
    },
  };
}

async function readTail(path: string, maxBytes: number): Promise<string> {
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size === 0) return '';
  const fh = await open(path, 'r');
  try {
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    // Drop a partial first line when the file was cut.
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await fh.close();
  }
}

export type JobControlService = ReturnType<typeof createJobControlService>;
