import { isApiError, type ValidationResult } from '@llmops/client';
import { money, renderFields, renderViolations } from '../output.ts';

export function renderVerdict(r: ValidationResult): string {
  const lines: [string, unknown][] = [
    ['verdict', r.valid ? 'valid' : `INVALID (${r.violations.length} violation(s))`],
    ['image', r.image ? `${r.image.image} (${r.image.variant})` : null],
    ['image reason', r.image?.reason],
  ];
  // Endpoints and bodies rejected early have no estimates; "-" rows would suggest a zero cost.
  if (r.estimates) {
    const e = r.estimates;
    lines.push(
      ['memory/GPU', e.gpuMemoryPerGpuGib === null ? null : `${e.gpuMemoryPerGpuGib} GiB`],
      ['GPU hours', e.gpuHours],
      ['est. cost', money(e.costUsd)],
    );
  }
  return renderFields(lines) + (r.violations.length ? `\n${renderViolations(r.violations)}` : '');
}

/**
 * The result of a dry run. A body the server rejects before its rules run (wrong shape, 400 with
 * violations) is still a verdict for the person asking "would this pass?".
 */
export async function verdictOf(validate: () => Promise<ValidationResult>): Promise<ValidationResult> {
  try {
    return await validate();
  } catch (e) {
    if (isApiError(e) && e.status === 400 && e.violations.length) {
      return { valid: false, violations: e.violations, image: null, estimates: null };
    }
    throw e;
  }
}
