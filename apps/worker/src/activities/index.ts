import type { AdmissionConfig } from '@llmops/spec';
import { createAdmissionActivities } from './admission.ts';
import { createJobActivities } from './jobs.ts';
import { createPrepareActivities } from './prepare.ts';
import { createRegisterActivities } from './register.ts';
import { createRunActivities } from './run.ts';
import { createServingActivities } from './serving.ts';
import type { ActivityDeps } from './types.ts';

export type { ActivityDeps } from './types.ts';

/** Every activity of the worker, bound to its dependencies (no module-level state). */
export function createActivities(deps: ActivityDeps & { admission: AdmissionConfig }) {
  return {
    ...createJobActivities(deps),
    ...createPrepareActivities(deps),
    ...createRunActivities(deps),
    ...createRegisterActivities(deps),
    ...createAdmissionActivities(deps),
    ...createServingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
