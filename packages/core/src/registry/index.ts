export * from './gates.ts';
export * from './history.ts';
export * from './mlflow.ts';
export * from './registry.service.ts';
export * from './in-memory-mlflow.ts';
export type { MlflowApi } from '@llmops/integrations-mlflow';
