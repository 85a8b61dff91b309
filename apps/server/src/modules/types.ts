import type { PlatformContext, Services } from '@llmops/core';

export interface ModuleOptions {
  services: Services;
  platform: PlatformContext;
  uploadLimitBytes: number;
  version: string;
}

export const API_PREFIX = '/llm-ops/v1';
