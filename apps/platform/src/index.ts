export { startPlatform, VERSION } from './platform.ts';
export type { RunningPlatform } from './platform.ts';
