export {
  createLocalServingDriver,
  MODEL_SERVER_EXIT_BAD_MODEL,
  type LocalServingDriverOptions,
} from './local-serving-driver.ts';
export { resolveModelFiles, type ModelFiles } from './model-files.ts';
