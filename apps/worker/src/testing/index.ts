export { FakeExecutor, FakeProcessTable } from './fake-executor.ts';
export type { FakeAttemptScript, FakeScript } from './fake-executor.ts';
export { seedTrainingJob } from './fixtures.ts';
export type { SeedJobOptions } from './fixtures.ts';
export { StubServingDriver } from './stub-serving-driver.ts';
export { startTemporalHarness, type TemporalHarness } from './harness.ts';
