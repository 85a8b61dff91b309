import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { RuntimeSpec } from '@llmops/spec';
import { readRunRecord, writeRecord, type AttemptPaths, type RunRecord } from './attempt-files.ts';
import { commandLineIncludes, processStartTime } from './process-probe.ts';
import { spawnAttempt } from './spawn-attempt.ts';

/** How long a second caller waits for the first one to record the process it is starting. */
const START_WAIT_MS = 5_000;
const START_POLL_MS = 250;
/** Never equal to a real start time: marks an adopted wrapper that is already gone. */
const GONE = 'gone';

export interface AttachedProcess {
  record: RunRecord;
  /** Set when this call started the process: its exit event is then observed directly. */
  child: ChildProcess | null;
}

export interface StartConfig {
  command: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * Finds the attempt's process or starts it, never two of them. spec.json, created exclusively, is the claim
 * to start; run.json (written synchronously right after spawning) makes the process known to later callers.
 */
export async function attachOrStart(
  p: AttemptPaths,
  spec: RuntimeSpec,
  cfg: StartConfig,
): Promise<AttachedProcess> {
  const known = await readRunRecord(p);
  if (known) return { record: known, child: null };
  await mkdir(p.dir, { recursive: true });
  if (await claim(p, spec)) return spawnAttempt(p, cfg.command, cfg.env);
  return adoptOrRestart(p, spec, cfg);
}

async function claim(p: AttemptPaths, spec: RuntimeSpec): Promise<boolean> {
  try {
    await writeFile(p.spec, JSON.stringify(spec, null, 2) + '\n', { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Someone claimed the attempt but no run.json exists: either another caller is starting it right now, or a
 * platform died between claiming and recording. The wrapper writes its own pid first thing, which tells the
 * two apart from a start that never happened.
 */
async function adoptOrRestart(
  p: AttemptPaths,
  spec: RuntimeSpec,
  cfg: StartConfig,
): Promise<AttachedProcess> {
  for (let waited = 0; waited < START_WAIT_MS; waited += START_POLL_MS) {
    const record = await readRunRecord(p);
    if (record) return { record, child: null };
    await new Promise((r) => setTimeout(r, START_POLL_MS));
  }
  const wrapperPid = await readWrapperPid(p);
  if (wrapperPid !== null) {
    const ours = commandLineIncludes(wrapperPid, p.dir);
    const record: RunRecord = {
      pid: wrapperPid,
      startTime: ours ? processStartTime(wrapperPid) : GONE,
      command: cfg.command,
      startedAt: new Date().toISOString(),
    };
    await writeRecord(p.run, record);
    return { record, child: null };
  }
  await writeFile(p.spec, JSON.stringify(spec, null, 2) + '\n');
  return spawnAttempt(p, cfg.command, cfg.env);
}

async function readWrapperPid(p: AttemptPaths): Promise<number | null> {
  const text = await readFile(p.wrapperPid, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
