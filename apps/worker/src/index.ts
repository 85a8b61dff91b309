export { bundleWorkflows, startWorker, WORKFLOWS_PATH } from './worker.ts';
export type { RunningWorker, WorkerDeps } from './worker.ts';
export { createActivities } from './activities/index.ts';
export type { Activities, ActivityDeps } from './activities/index.ts';
export { defaultPretrainArchitecture, localPathOf, storageUriOf } from './activities/prepare.ts';
