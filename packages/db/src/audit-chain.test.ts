import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditHash, canonicalJson, GENESIS_HASH, normaliseDetail } from './audit-chain.ts';
import type { AuditFields } from './audit-chain.ts';

const fields: AuditFields = {
  id: '8a0c7c1e-3b1f-4a8e-9a53-2f0f6f1b9c11',
  at: '2026-01-02T03:04:05.678Z',
  actor: 'user:42',
  projectId: null,
  action: 'training.submit',
  targetType: 'training_job',
  targetId: 'job-1',
  requestHash: null,
  result: 'success',
  statusCode: 201,
  detail: { z: 1, a: { y: true, b: 'é' } },
};

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys at every depth and leaves no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
  });

  it('serialises numbers as ECMAScript does', () => {
    expect(canonicalJson([1.0, 1e21, 0.1 + 0.2, -0])).toBe('[1,1e+21,0.30000000000000004,0]');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson(undefined)).toThrow(/no JSON representation/);
  });
});

describe('audit hash', () => {
  it('is sha256 of the previous hash, a newline and the canonical fields', () => {
    const expected = createHash('sha256')
      .update(`${GENESIS_HASH}\n${canonicalJson(fields)}`)
      .digest('hex');
    expect(auditHash(GENESIS_HASH, fields)).toBe(expected);
    expect(canonicalJson(fields).startsWith('{"action":"training.submit","actor":"user:42","at":')).toBe(
      true,
    );
  });

  it('does not depend on key order of the detail', () => {
    const reordered = { ...fields, detail: { a: { b: 'é', y: true }, z: 1 } };
    expect(auditHash(GENESIS_HASH, reordered)).toBe(auditHash(GENESIS_HASH, fields));
  });

  it('changes when any field or the previous hash changes', () => {
    const base = auditHash(GENESIS_HASH, fields);
    expect(auditHash('f'.repeat(64), fields)).not.toBe(base);
    expect(auditHash(GENESIS_HASH, { ...fields, statusCode: 200 })).not.toBe(base);
    expect(auditHash(GENESIS_HASH, { ...fields, detail: { ...fields.detail, z: 2 } })).not.toBe(base);
  });
});

describe('normaliseDetail', () => {
  it('gives the form jsonb will return: undefined dropped, dates as strings', () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    expect(normaliseDetail({ a: undefined, b: [undefined], at })).toEqual({
      b: [null],
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(normaliseDetail(undefined)).toEqual({});
  });

  it('refuses a detail that is not an object', () => {
    expect(() => normaliseDetail([1] as unknown as Record<string, unknown>)).toThrow(/must be a JSON object/);
  });
});
