export type { ExecutionObserver, ExecutionOutcome, Executor, RunRequest } from './executor.ts';
export {
  createLocalProcessExecutor,
  type HeartbeatHint,
  type LocalExecutorStatus,
  type LocalProcessExecutor,
  type LocalProcessExecutorOptions,
} from './local-process-executor.ts';
export { decideOutcome, type AttemptSummary, type ExitRecord } from './outcome.ts';
