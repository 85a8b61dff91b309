export type * from './types.ts';
export { codeForStatus, isRetryable, MlflowError } from './errors.ts';
export type { MlflowErrorCode, PlatformErrorCode } from './errors.ts';
export { artifactProxyPath, createMlflowClient, metricValueFromWire, metricValueToWire } from './client.ts';
export type { MlflowClientOptions } from './client.ts';
export { freePort, mlflowServerArgs, startMlflowServer } from './server.ts';
export type { MlflowServer, StartMlflowServerOptions } from './server.ts';
export { batchForLogBatch, batchLimits, sanitizeMetricKey } from './batch.ts';
export type { Batch, BatchItems } from './batch.ts';
export {
  ENCODING_TAG,
  fromMlflowFields,
  fromMlflowParams,
  MAX_KEY_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  SHAPE_TAG,
  SpecParamsError,
  toMlflowFields,
  toMlflowParams,
} from './params.ts';
export type { JsonValue } from './params.ts';
