import type { ServingDriver } from './backend.ts';
import type { ServingRouter } from './router.ts';
import type { ServingTelemetry } from './telemetry.ts';

/**
 * What serving needs at run time in a process that deploys or proxies: the driver of the configured
 * backend, the routing tables and the request telemetry. In the embedded mode one instance is shared by
 * the API (the inference proxy) and the worker (the rollout activities).
 */
export interface ServingRuntime {
  driver: ServingDriver;
  router: ServingRouter;
  telemetry: ServingTelemetry;
}
