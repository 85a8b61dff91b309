export type * from './types.ts';
export { codeForStatus, isRetryable, MlflowError } from './errors.ts';
export type { MlflowErrorCode, PlatformErrorCode } from './errors.ts';
export { artifactProxyPath, createMlflowClient, metricValueFromWire, metricValueToWire } from './client.ts';
export type { MlflowClientOptions } from './client.ts';
export { freePort, mlflowServerArgs, startMlflowServer } from './server.ts';
export type { MlflowServer, StartMlflowServerOptions } from './server.ts';
