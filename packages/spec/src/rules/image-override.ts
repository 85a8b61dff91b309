import { violation, type RuleViolation } from './types.ts';

const IMAGE_KEYS = [
  'image',
  'train_image',
  'trainImage',
  'serve_image',
  'serveImage',
  'images',
  'container_image',
  'containerImage',
];

/**
 * Runs on the raw body before schema parsing so that an attempt to pick an image gets its own rule code
 * (FR-019, FR-022) instead of a generic unknown-field error.
 */
export function findImageOverrides(raw: unknown, nested: readonly string[]): RuleViolation[] {
  if (!isObject(raw)) return [];
  const out: RuleViolation[] = [];
  const scan = (obj: Record<string, unknown>, prefix: string) => {
    for (const key of IMAGE_KEYS) {
      if (key in obj) {
        const path = prefix ? `${prefix}.${key}` : key;
        out.push(
          violation(
            'IMAGE_OVERRIDE_FORBIDDEN',
            path,
            `'${path}' is not accepted: the platform selects the image from configuration by job_type/serve_target and GPU availability`,
          ),
        );
      }
    }
  };
  scan(raw, '');
  for (const key of nested) {
    const inner = raw[key];
    if (isObject(inner)) scan(inner, key);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
