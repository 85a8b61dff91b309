/**
 * The part of the spec that workflow code imports (`@llmops/spec/workflows`): workflow names, signals,
 * queries and inputs. The Temporal worker evaluates a workflow's modules again for every execution it
 * creates or replays (per-workflow module isolation), so each schema reachable from here is built once per
 * workflow; the API, submission and runtime schemas stay out of that path.
 */
export * from './workflows.ts';
export * from './deployment-workflow.ts';
export type { JobState } from './enums.ts';
