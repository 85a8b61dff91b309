// The one entry point of the workflow bundle. Workflow code is deterministic: no Node built-ins, no I/O,
// and activities are reached only through proxyActivities with type-only imports.
export { trainingJob } from './training-job.ts';
export { admission } from './admission.ts';
export { deployment, endpointTeardown } from './deployment.ts';
