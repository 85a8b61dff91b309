import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The hashed content of one audit entry. Every field is present (absent values are null) so that the
 * canonical form does not depend on how a caller spelled "missing".
 */
export interface AuditFields {
  id: string;
  /** ISO-8601 UTC with milliseconds, produced by the application (`Date#toISOString`). */
  at: string;
  actor: string;
  projectId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  requestHash: string | null;
  result: 'success' | 'error';
  statusCode: number;
  detail: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical form is RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code
 * units, no insignificant whitespace, numbers and strings serialised as ECMAScript JSON does. Any
 * language with a JCS implementation can recompute the chain from an export of the table.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** hash = sha256_hex(prev_hash + "\n" + JCS(fields)). */
export function auditHash(prevHash: string, fields: AuditFields): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalJson(fields)}`, 'utf8')
    .digest('hex');
}

/**
 * The detail exactly as it will read back from the jsonb column: undefined members dropped, dates as
 * strings. Hashing this form (not the caller's object) lets a verifier recompute the same hash.
 */
export function normaliseDetail(detail: Record<string, unknown> | undefined): Record<string, unknown> {
  if (detail === undefined) return {};
  const text = JSON.stringify(detail);
  const parsed: unknown = text === undefined ? {} : JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError('audit detail must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
