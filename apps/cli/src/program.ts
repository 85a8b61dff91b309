import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createContext, type CliIO, type ContextOptions, type Ctx } from './context.ts';
import { OUTPUT_FORMATS } from './output.ts';
import type { GlobalFlags } from './settings.ts';

/** What a command returns: its exit code (default 0). */
export type ActionResult = Promise<number | void>;

/** Wraps a command body: builds the context from the global options and records the exit code. */
export type Run = <O>(
  fn: (ctx: Ctx, opts: O, args: string[]) => ActionResult,
  contextOptions?: ContextOptions,
) => (...raw: unknown[]) => Promise<void>;

export interface ProgramState {
  exitCode: number;
}

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got '${value}'`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a whole number >= 0, got '${value}'`);
  return n;
}

/** `--limit` and `--offset`, the same on every list command. */
export function withPaging(cmd: Command): Command {
  return cmd
    .option('--limit <n>', 'at most this many items (1-200)', positiveInt)
    .option('--offset <n>', 'skip this many items', nonNegativeInt);
}

export function createProgram(io: CliIO, state: ProgramState): { program: Command; run: Run } {
  const program = new Command('llmops')
    .description('Operate the LLM Ops Platform: start it, submit and inspect jobs, govern endpoints')
    .version(version, '-V, --version')
    .option(
      '--url <url>',
      'platform URL (env LLMOPS_URL; default: login profile, else http://127.0.0.1:8000)',
    )
    .option(
      '--token <token>',
      'API token (env LLMOPS_TOKEN; default: login profile, else the local admin token)',
    )
    .option('--project <slug>', 'project to act in (env LLMOPS_PROJECT; default: the token’s project)')
    .option('--profile <name>', 'login profile to use (env LLMOPS_PROFILE; default: the current one)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const run: Run =
    (fn, contextOptions) =>
    async (...raw) => {
      const cmd = raw.at(-1) as Command;
      const opts = cmd.opts();
      const ctx = await createContext(io, cmd.optsWithGlobals<GlobalFlags>(), contextOptions);
      const code = await fn(ctx, opts as never, cmd.args);
      state.exitCode = code ?? 0;
    };
  return { program, run };
}
