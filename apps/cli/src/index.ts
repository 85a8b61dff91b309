export { runCli, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './run.ts';
export type { CliIO, OutStream } from './context.ts';
