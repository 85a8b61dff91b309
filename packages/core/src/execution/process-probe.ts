import { existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * Process facts from /proc (Linux). Reads are synchronous on purpose: procfs lives in memory, the files are a
 * few hundred bytes, and an answer that is never stale by an event-loop turn is what the callers want.
 * Where /proc does not exist the probes degrade to `kill(pid, 0)`, without the pid-reuse check.
 */
const HAS_PROC = existsSync('/proc/self/stat');

interface ProcStat {
  state: string;
  pgid: number;
  startTime: string;
}

function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, , pgid] = fields;
  const startTime = fields[19];
  if (state === undefined || pgid === undefined || startTime === undefined) return null;
  return { state, pgid: Number(pgid), startTime };
}

/** Start time in clock ticks since boot: together with the pid it identifies a process for its whole life. */
export function processStartTime(pid: number): string | null {
  return HAS_PROC ? (readProcStat(pid)?.startTime ?? null) : null;
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `pid` is alive and is the process recorded with `startTime` (not a later process that reused the
 * pid). A zombie counts as gone: it has finished, it only waits for its parent to collect it.
 */
export function isAlive(pid: number, startTime: string | null): boolean {
  if (!signalZero(pid)) return false;
  if (!HAS_PROC) return true;
  const st = readProcStat(pid);
  if (st === null || st.state === 'Z' || st.state === 'X') return false;
  return startTime === null || st.startTime === startTime;
}

/**
 * True when another process now holds `pid`. While any member of a process group lives, the kernel does not
 * hand its id out again, so when this is false, signalling the group `-pid` can only reach our processes.
 */
export function pidReused(pid: number, startTime: string | null): boolean {
  if (!signalZero(pid) || !HAS_PROC || startTime === null) return false;
  const st = readProcStat(pid);
  return st !== null && st.startTime !== startTime;
}

/** Whether the process's command line contains `text` (used to recognise our wrapper by its attempt dir). */
export function commandLineIncludes(pid: number, text: string): boolean {
  if (!HAS_PROC) return signalZero(pid);
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(text);
  } catch {
    return false;
  }
}

/** Live members of a process group, except `exceptPid`. Null where /proc is unavailable. */
export function groupMembers(pgid: number, exceptPid?: number): number[] | null {
  if (!HAS_PROC) return null;
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === exceptPid) continue;
    const st = readProcStat(pid);
    if (st && st.pgid === pgid && st.state !== 'Z' && st.state !== 'X') members.push(pid);
  }
  return members;
}

/** Signals a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
