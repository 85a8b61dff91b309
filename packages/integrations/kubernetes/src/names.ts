import { createHash } from 'node:crypto';
import { ConversionError } from './errors.ts';

/**
 * Longest metadata.name the converters produce. DNS-1035 allows 63, but KServe derives host names and
 * Knative revisions (`<name>-predictor-00001`) from it, which must stay within 63 as well.
 */
export const MAX_NAME_LENGTH = 45;

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1035(name: string): boolean {
  return name.length <= 63 && DNS_1035.test(name);
}

/**
 * A DNS-1035 label made from an endpoint's name (or id): lower-cased, every run of other characters
 * becomes one "-", a leading digit gets an "ep-" prefix. Names longer than MAX_NAME_LENGTH are cut and
 * end in 8 hex characters of the source's sha256, so different long names stay different. The same
 * source always gives the same name. Throws when nothing usable is left (e.g. only punctuation).
 */
export function toDns1035(source: string, field = 'name'): string {
  let s = source
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/[a-z0-9]/.test(s))
    throw new ConversionError(
      'NAME_NOT_DNS_1035',
      field,
      `'${source}' has no letters or digits to build a Kubernetes name from (DNS-1035: lower-case letters, digits and "-", starting with a letter)`,
    );
  if (!/^[a-z]/.test(s)) s = `ep-${s}`;
  if (s.length > MAX_NAME_LENGTH) {
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 8);
    s = `${s.slice(0, MAX_NAME_LENGTH - 9).replace(/-+$/, '')}-${hash}`;
  }
  return s;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The value as a Kubernetes label value, or undefined when it cannot be one (the annotation still has it). */
export function labelValue(value: string): string | undefined {
  return value.length <= 63 && LABEL_VALUE.test(value) ? value : undefined;
}
