export {
  detectGpu,
  parseNvidiaSmiOutput,
  runCommand,
  DETECT_TIMEOUT_MS,
  NVIDIA_SMI_ARGS,
} from './gpu-detection.ts';
export type {
  GpuDetection,
  CommandResult,
  CommandRunner,
  DetectGpuOptions,
  NvidiaGpu,
  NvidiaSmiParse,
} from './gpu-detection.ts';
export { selectImage } from './image-selection.ts';
export type { ImageChoice, ImageRequest } from './image-selection.ts';
export { addressOf, checkIntegrations, probeAddress } from './integrations.ts';
export type {
  IntegrationCheck,
  IntegrationCheckStatus,
  IntegrationTarget,
  IntegrationTargets,
} from './integrations.ts';
