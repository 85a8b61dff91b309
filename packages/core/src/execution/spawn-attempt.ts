import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { AttemptPaths, RunRecord } from './attempt-files.ts';
import { writeRecordSync } from './attempt-files.ts';
import { processStartTime } from './process-probe.ts';

/**
 * The runtime runs under a small POSIX shell wrapper. A process that is not our child (after the platform
 * restarted) cannot be waited for, so the wrapper records the runtime's exit status in exit.json itself.
 * - `trap :` rather than `trap ''`: an ignored signal would be inherited by the runtime, a trapped one is
 *   reset to the default in it. The wrapper thus survives the SIGTERM sent to the group and records the exit.
 * - A shell reports death by signal N as 128+N; `kill -l` turns it back into the signal's name.
 * - `kill -KILL 0` last: nothing the runtime left behind in its process group outlives the attempt.
 */
export const WRAPPER_SCRIPT = [
  'd=$1; shift',
  'echo $$ > "$d/wrapper.pid"',
  'trap : TERM INT HUP',
  '"$@"',
  's=$?',
  'c=$s; g=null',
  'if [ "$s" -gt 128 ] && n=$(kill -l "$s" 2>/dev/null); then c=null; g="\\"SIG$n\\""; fi',
  'printf \'{"exitCode":%s,"signal":%s,"finishedAt":"%s","recordedBy":"wrapper"}\\n\' "$c" "$g" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$d/exit.json.tmp" && mv -f "$d/exit.json.tmp" "$d/exit.json"',
  'kill -KILL 0',
].join('\n');

/** `$0` of the wrapper: makes the attempt recognisable in `ps`. */
const WRAPPER_NAME = 'llmops-attempt';

export interface SpawnedAttempt {
  record: RunRecord;
  child: ChildProcess;
}

/**
 * Starts the runtime detached, in its own process group, with stdout and stderr going straight to files, so
 * it keeps running and keeps being recorded when the platform stops. spec.json must already be written.
 */
export function spawnAttempt(p: AttemptPaths, command: string[], env: NodeJS.ProcessEnv): SpawnedAttempt {
  const out = openSync(p.events, 'w');
  const err = openSync(p.stderr, 'w');
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, WRAPPER_NAME, p.dir, ...command], {
      cwd: p.dir,
      env,
      detached: true,
      stdio: ['ignore', out, err],
    });
  } finally {
    // The child holds its own copies of the descriptors.
    closeSync(out);
    closeSync(err);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the runtime wrapper for ${p.dir}`);
  const record: RunRecord = {
    pid,
    startTime: processStartTime(pid),
    command,
    startedAt: new Date().toISOString(),
  };
  writeRecordSync(p.run, record);
  child.unref();
  // Spawn errors surface here asynchronously; the missing exit record then reports the attempt as failed.
  child.on('error', () => {});
  return { record, child };
}
