import { CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import type { CliIO } from './context.ts';
import { UsageError } from './errors.ts';
import { formatError } from './output.ts';
import { createProgram } from './program.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * The first Ctrl-C goes to the command, which stops what it follows and exits cleanly; a second one
 * while it is still stopping ends the process as usual.
 */
function onProcessInterrupt(fn: () => void): () => void {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    if (!seen) {
      seen = true;
      fn();
      return;
    }
    release();
    process.kill(process.pid, signal);
  };
  const release = () => {
    for (const s of signals) process.off(s, handler);
  };
  for (const s of signals) process.on(s, handler);
  return release;
}

/**
 * Runs one command line and resolves to its exit code; it never calls process.exit, so tests and other
 * programs can run it in-process with their own streams and environment.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const full: CliIO = {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    onInterrupt: io.onInterrupt ?? onProcessInterrupt,
  };
  const state = { exitCode: EXIT_OK };
  const { program, run } = createProgram(full, state);
  registerCommands(program, run);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (e) {
    // Commander has already printed its message (and help, when asked for).
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    full.stderr.write(formatError(e));
    return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
