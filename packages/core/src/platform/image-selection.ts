import type { PlatformConfig } from '@llmops/config';
import type { GpuPreference, JobType, ServeTarget } from '@llmops/spec';
import type { GpuDetection } from './gpu-detection.ts';

export type ImageRequest =
  | { readonly config: PlatformConfig; readonly kind: 'train'; readonly jobType: JobType }
  | { readonly config: PlatformConfig; readonly kind: 'serve'; readonly serveTarget: ServeTarget };

export interface ImageChoice {
  readonly image: string;
  readonly variant: 'gpu' | 'cpu';
  /** One sentence, shown to users and stored on the job or endpoint. */
  readonly reason: string;
}

/**
 * Picks the image from configuration (FR-019, FR-022, FR-027, FR-028). Users never name an image; they
 * only influence the variant through use_gpu. In order: use_gpu=false → CPU; the administrator's
 * preference (LLMOPS_GPU_PREFERENCE) cpu or gpu wins over detection; under `auto` only a detected GPU
 * gives the GPU image, because an ambiguous answer must not send work to hardware that may not exist.
 */
export function selectImage(
  input: ImageRequest,
  useGpu: boolean,
  preference: GpuPreference,
  detection: GpuDetection,
): ImageChoice {
  const variants =
    input.kind === 'train'
      ? input.config.images.train[input.jobType]
      : input.config.images.serve[input.serveTarget];
  const what = input.kind === 'train' ? `${input.jobType} job` : `${input.serveTarget} deployment`;
  const pick = (variant: 'gpu' | 'cpu', reason: string): ImageChoice => ({
    image: variants[variant],
    variant,
    reason,
  });

  if (!useGpu) return pick('cpu', `CPU image chosen because the ${what} sets use_gpu=false.`);
  if (preference === 'cpu') {
    return pick('cpu', `CPU image chosen because the administrator set the GPU preference to cpu.`);
  }
  if (preference === 'gpu') {
    return pick(
      'gpu',
      `GPU image chosen because the administrator set the GPU preference to gpu (detection: ${describe(detection)}).`,
    );
  }
  switch (detection.state) {
    case 'present':
      return pick('gpu', `GPU image chosen because a GPU was detected (${describe(detection)}).`);
    case 'absent':
      return pick('cpu', `CPU image chosen because no GPU was detected (${describe(detection)}).`);
    case 'unknown':
      return pick('cpu', `CPU image chosen because GPU detection was inconclusive (${describe(detection)}).`);
  }
}

function describe(detection: GpuDetection): string {
  return detection.reason.replace(/[.\s]+$/, '') || detection.state;
}
