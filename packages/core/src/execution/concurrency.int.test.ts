import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { HeartbeatHint } from './local-process-executor.ts';
import {
  fakeExecutor,
  makeRunsDir,
  pidsIn,
  processState,
  recorder,
  syntheticSpec,
} from './testing/harness.ts';

let runsDir: string;
let cleanup: () => Promise<void>;
let pidFile: string;

beforeEach(async () => {
  ({ dir: runsDir, cleanup } = await makeRunsDir());
  pidFile = join(runsDir, 'pids');
});
afterEach(async () => {
  for (const pid of await pidsIn(pidFile)) if (processState(pid) === 'alive') process.kill(pid, 'SIGKILL');
  await cleanup();
});

it('50 concurrent runs under one executor all complete, each with all its events', async () => {
  const runs = 50;
  const steps = 20;
  const hints: HeartbeatHint[] = [];
  const ex = fakeExecutor(runsDir, { FAKE_PID_FILE: pidFile }, { heartbeatHint: (h) => hints.push(h) });
  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: runs }, async (_, i) => {
      const jobId = `job-${i}`;
      const obs = recorder();
      const outcome = await ex.run({ jobId, attempt: 1, spec: syntheticSpec(jobId, 1, steps, 50, 5) }, obs);
      return { outcome, steps: obs.events.filter((e) => e.type === 'progress').length };
    }),
  );
  const elapsed = Date.now() - started;

  expect(results.every((r) => r.outcome.kind === 'succeeded' && r.steps === steps)).toBe(true);
  expect(elapsed).toBeLessThan(45_000);
  const pids = await pidsIn(pidFile);
  expect(new Set(pids).size).toBe(runs);
  expect(pids.filter((pid) => processState(pid) !== 'gone')).toEqual([]);
  // Every run was offered heartbeats while it was followed.
  expect(new Set(hints.map((h) => h.jobId)).size).toBe(runs);
}, 60_000);
