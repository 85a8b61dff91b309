// A stand-in for the Python training runtime, speaking the same contract (packages/spec/src/runtime.ts):
// reads the spec named by LLMOPS_SPEC, prints JSON-lines events on stdout, checkpoints and exits 10 on
// SIGTERM. Steps and pace come from spec.synthetic and spec.checkpoint; misbehaviour from FAKE_* variables:
//   FAKE_PID_FILE       append this process's pid to the file (tests count the processes started)
//   FAKE_EXIT_CODE      code to exit with after the last step (default 0; non-zero emits an error first)
//   FAKE_ERROR          message of that error log and failed result
//   FAKE_NO_RESULT=1    exit 0 without a result event
//   FAKE_GARBAGE=n      print n invalid event lines (and a plain line) before the first step
//   FAKE_STDERR         a line to print on stderr before the first step
//   FAKE_SPLIT_WRITES=1 write each event in two pieces, 20 ms apart (partial lines for the reader)
//   FAKE_CRASH_AT=k     kill itself with SIGKILL at step k
//   FAKE_HANG=1         after the last step, hang instead of exiting
//   FAKE_IGNORE_SIGTERM=1  keep going on SIGTERM (forces the supervisor to SIGKILL)
import { appendFileSync, readFileSync, writeSync } from 'node:fs';
import { setInterval, setTimeout } from 'node:timers';

const env = process.env;
const spec = JSON.parse(readFileSync(env.LLMOPS_SPEC, 'utf8'));
const steps = spec.synthetic?.steps ?? 5;
const stepMs = spec.synthetic?.step_ms ?? 10;
const every = spec.checkpoint.every_n_steps;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now() / 1000;

if (env.FAKE_PID_FILE) appendFileSync(env.FAKE_PID_FILE, `${process.pid}\n`);

let chain = Promise.resolve();
function emit(event) {
  const line = JSON.stringify({ ts: now(), ...event }) + '\n';
  if (env.FAKE_SPLIT_WRITES !== '1') {
    writeSync(1, line);
    return chain;
  }
  const cut = Math.floor(line.length / 2);
  chain = chain.then(async () => {
    writeSync(1, line.slice(0, cut));
    await sleep(20);
    writeSync(1, line.slice(cut));
  });
  return chain;
}

let step = 0;
let lastCheckpoint = null;
const checkpointPath = (s) => `${spec.checkpoint.dir}/step-${s}`;

process.on('SIGTERM', async () => {
  if (env.FAKE_IGNORE_SIGTERM === '1') {
    await emit({ type: 'log', level: 'warning', message: 'SIGTERM ignored' });
    return;
  }
  if (lastCheckpoint !== step) await emit({ type: 'checkpoint', step, path: checkpointPath(step) });
  await emit({ type: 'result', status: 'checkpointed', step, metrics: {}, message: 'stopped on request' });
  process.exit(10);
});

await emit({ type: 'started', mode: spec.mode, resumed_from_step: null, runtime_version: 'fake-1' });
const garbage = Number(env.FAKE_GARBAGE ?? 0);
if (garbage > 0) {
  writeSync(1, 'hello from the runtime\n');
  for (let i = 0; i < garbage; i++) writeSync(1, i % 2 ? '{"type":"progress","step":"x"}\n' : '{not json\n');
}
if (env.FAKE_STDERR) writeSync(2, `${env.FAKE_STDERR}\n`);

for (step = 1; step <= steps; step++) {
  await sleep(stepMs);
  if (Number(env.FAKE_CRASH_AT) === step) process.kill(process.pid, 'SIGKILL');
  await emit({ type: 'progress', step, total_steps: steps, epoch: 0 });
  await emit({ type: 'metric', step, values: { loss: 1 / step } });
  if (step % every === 0) {
    lastCheckpoint = step;
    await emit({ type: 'checkpoint', step, path: checkpointPath(step) });
  }
}
step = steps;

if (env.FAKE_HANG === '1') setInterval(() => {}, 1 << 30);
else {
  const code = Number(env.FAKE_EXIT_CODE ?? 0);
  if (code === 0 && env.FAKE_NO_RESULT !== '1')
    await emit({ type: 'result', status: 'succeeded', step, metrics: { loss: 1 / steps }, message: null });
  if (code !== 0) {
    const message = env.FAKE_ERROR ?? `failing with ${code}`;
    await emit({ type: 'log', level: 'error', message });
    await emit({ type: 'result', status: 'failed', step, metrics: {}, message });
  }
  process.exit(code);
}
