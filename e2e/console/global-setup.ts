import type { TestProject } from 'vitest/node';
import { startConsoleStack, type ConsoleStack } from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    consoleStack: ConsoleStack;
  }
}

/** One stack for every browser test file: starting it (Temporal, MLflow, the platform) takes the longest. */
export default async function setup(project: TestProject) {
  const { stack, stop } = await startConsoleStack();
  project.provide('consoleStack', stack);
  return stop;
}
