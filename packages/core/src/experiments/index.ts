export * from './compare.ts';
export * from './search.ts';
export * from './experiments.service.ts';
