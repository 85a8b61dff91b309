import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  commandLineIncludes,
  groupMembers,
  isAlive,
  processStartTime,
  signalGroup,
} from '../../execution/process-probe.ts';

/** What `<replica>.pid.json` records, so a later platform process can find (and stop) a server it left. */
export interface ReplicaRecord {
  pid: number;
  /** /proc start time: with the pid it identifies the process for its whole life. */
  startTime: string | null;
  /** The port file passed on the command line: how the process is recognised as ours. */
  portFile: string;
  startedAt: number;
}

export interface SpawnedReplica {
  child: ChildProcess;
  record: ReplicaRecord;
  /** Size of the log before this start: the start's own lines begin there. */
  logOffset: number;
}

export interface ReplicaPaths {
  pidFile: string;
  portFile: string;
  logFile: string;
}

export function replicaPaths(dir: string, replicaId: string): ReplicaPaths {
  return {
    pidFile: join(dir, `${replicaId}.pid.json`),
    portFile: join(dir, `${replicaId}.port`),
    logFile: join(dir, `${replicaId}.log`),
  };
}

/**
 * Starts one model server in its own process group (detached, so a signal to the platform's group does not
 * reach it and the whole group can be stopped at once), stdout and stderr appended to the replica's log.
 */
export function spawnReplica(opts: {
  command: string[];
  args: string[];
  env: NodeJS.ProcessEnv;
  paths: ReplicaPaths;
  header: string;
}): SpawnedReplica {
  const { paths } = opts;
  rmSync(paths.portFile, { force: true });
  const fd = openSync(paths.logFile, 'a');
  let logOffset: number;
  let child: ChildProcess;
  try {
    writeFileSync(fd, `${opts.header}\n`);
    logOffset = statSync(paths.logFile).size;
    const [cmd, ...pre] = opts.command;
    child = spawn(cmd!, [...pre, ...opts.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env,
    });
  } finally {
    closeSync(fd);
  }
  // Without a pid the spawn failed (e.g. no such interpreter); the 'error' event tells the caller.
  const pid = child.pid ?? -1;
  const record: ReplicaRecord = {
    pid,
    startTime: pid > 0 ? processStartTime(pid) : null,
    portFile: paths.portFile,
    startedAt: Date.now(),
  };
  if (pid > 0) writeFileSync(paths.pidFile, JSON.stringify(record));
  child.unref();
  return { child, record, logOffset };
}

/** True while the recorded server, or anything left in its process group, still runs. */
export function replicaRunning(record: ReplicaRecord): boolean {
  if (isAlive(record.pid, record.startTime)) return true;
  const members = groupMembers(record.pid);
  return members !== null && members.length > 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGone(record: ReplicaRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (replicaRunning(record)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when nothing of it is left. */
export async function stopReplica(record: ReplicaRecord, graceMs: number): Promise<void> {
  if (record.pid <= 0) return;
  if (!replicaRunning(record)) return;
  signalGroup(record.pid, 'SIGTERM');
  if (await waitGone(record, graceMs)) return;
  signalGroup(record.pid, 'SIGKILL');
  if (!(await waitGone(record, 5_000)))
    throw new Error(`model server pid ${record.pid} did not end after SIGKILL`);
}

/** The last `lines` lines of the log written since `offset` (at most the last 64 KiB of it). */
export async function logTail(path: string, offset: number, lines = 20): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(offset, size - 65_536);
    if (size <= start) return '';
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}

/**
 * Stops every server recorded in one revision directory (`<replica>.pid.json`) that still runs and is
 * recognisably ours (same start time, our port file on its command line), and deletes the records.
 * Returns how many were stopped.
 */
export function reapRevisionDir(revisionDir: string): number {
  let reaped = 0;
  let names: string[];
  try {
    names = readdirSync(revisionDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.endsWith('.pid.json')) continue;
    const file = join(revisionDir, name);
    let record: ReplicaRecord | null = null;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as ReplicaRecord;
    } catch {
      // A torn record: the process it named cannot be identified, so it is left alone.
    }
    if (
      record &&
      record.pid > 0 &&
      isAlive(record.pid, record.startTime) &&
      commandLineIncludes(record.pid, record.portFile)
    ) {
      signalGroup(record.pid, 'SIGKILL');
      reaped++;
    }
    rmSync(file, { force: true });
  }
  return reaped;
}

/**
 * Stops the servers recorded under `stateDir` (`<endpoint>/<revision>/<replica>.pid.json`), see
 * reapRevisionDir. Called when a driver is created: a platform that died left its servers running, and a
 * new driver starts its revisions afresh rather than adopting them.
 */
export function reapRecordedReplicas(stateDir: string): number {
  const dirs = (path: string) => {
    try {
      return readdirSync(path, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(path, e.name));
    } catch {
      return [];
    }
  };
  let reaped = 0;
  for (const endpointDir of dirs(stateDir))
    for (const revisionDir of dirs(endpointDir)) reaped += reapRevisionDir(revisionDir);
  return reaped;
}
