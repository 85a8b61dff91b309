import type { PlatformContext, Services, TrackingService } from '@llmops/core';

export interface ModuleOptions {
  services: Services;
  platform: PlatformContext;
  uploadLimitBytes: number;
  version: string;
  /** Experiment tracking; null when EXPERIMENT_TRACKING_ENABLED is false. */
  tracking?: TrackingService | null;
}

export const API_PREFIX = '/llm-ops/v1';
