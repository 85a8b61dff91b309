export * from './delivery.ts';
export * from './dispatcher.ts';
export * from './tracking.service.ts';
export * from './testing/fake-mlflow.ts';
