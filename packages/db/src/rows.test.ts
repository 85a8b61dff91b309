import { describe, expect, it } from 'vitest';
import { assertPage, containsPattern, isUuid, toIso, toNumber, Where } from './rows.ts';

describe('row helpers', () => {
  it('takes LIKE wildcards in a search literally', () => {
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });

  it('names the bad page parameter', () => {
    expect(() => assertPage({ limit: 0, offset: 0 })).toThrow(
      /limit must be an integer from 1 to 1000, got 0/,
    );
    expect(() => assertPage({ limit: 10, offset: -1 })).toThrow(
      /offset must be a non-negative integer, got -1/,
    );
    expect(() => assertPage({ limit: 1.5, offset: 0 })).toThrow(/limit/);
    expect(() => assertPage({ limit: 1000, offset: 0 })).not.toThrow();
  });

  it('numbers parameters in the order conditions are added', () => {
    const where = new Where().add('a = $?', 1).add('(b ILIKE $? OR c ILIKE $?)', 'x', 'y');
    expect(where.sql).toBe('WHERE a = $1 AND (b ILIKE $2 OR c ILIKE $3)');
    expect(where.next(10)).toBe('$4');
    expect(where.params).toEqual([1, 'x', 'y', 10]);
    expect(new Where().sql).toBe('');
  });

  it('converts driver values', () => {
    expect(toIso(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z');
    expect(() => toIso('not a date')).toThrow(/expected a timestamp/);
    expect(toNumber('12345678901')).toBe(12345678901);
    expect(isUuid('8a0c7c1e-3b1f-4a8e-9a53-2f0f6f1b9c11')).toBe(true);
    expect(isUuid('8a0c7c1e')).toBe(false);
  });
});
