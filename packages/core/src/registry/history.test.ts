import { describe, expect, it } from 'vitest';
import { planRollback } from './history.ts';

type Move = Parameters<typeof planRollback>[0][number];
let n = 0;
const promote = (from: string | null, to: string): Move => ({
  id: `p${++n}`,
  kind: 'promote',
  fromVersion: from,
  toVersion: to,
  revertsId: null,
});
const rollback = (of: Move): Move => ({
  id: `r${++n}`,
  kind: 'rollback',
  fromVersion: of.toVersion,
  toVersion: of.fromVersion!,
  revertsId: of.id,
});

describe('planRollback', () => {
  it('moves back to where the alias pointed before the last promotion', () => {
    const p2 = promote('1', '2');
    expect(planRollback([promote(null, '1'), p2], '2', 'staging')).toEqual({
      ok: true,
      target: '1',
      reverts: p2,
    });
  });

  it('walks back one promotion per rollback', () => {
    const p1 = promote(null, '1');
    const p2 = promote('1', '2');
    const p3 = promote('2', '3');
    const moves = [p1, p2, p3, rollback(p3)];
    expect(planRollback(moves, '2', 'prod')).toMatchObject({ ok: true, target: '1', reverts: p2 });
    const again = [...moves, rollback(p2)];
    expect(planRollback(again, '1', 'prod')).toEqual({
      ok: false,
      reason: "'prod' had no version before version 1 was promoted: there is no previous version",
    });
  });

  it('after a rollback and a new promotion, undoes the new promotion', () => {
    const p1 = promote(null, '1');
    const p2 = promote('1', '2');
    const p3 = promote('1', '3');
    expect(planRollback([p1, p2, rollback(p2), p3], '3', 'dev')).toMatchObject({
      ok: true,
      target: '1',
      reverts: p3,
    });
  });

  it('refuses without any promotion, naming the missing previous version', () => {
    expect(planRollback([], null, 'staging')).toEqual({
      ok: false,
      reason: "'staging' has no promotion to roll back: there is no previous version",
    });
  });

  it('refuses when the alias was moved outside the platform', () => {
    const r = planRollback([promote(null, '1'), promote('1', '2')], '5', 'staging');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/points at version 5 but the platform last moved it to version 2/);
    const gone = planRollback([promote(null, '1'), promote('1', '2')], null, 'staging');
    expect(!gone.ok && gone.reason).toMatch(/points at no version/);
  });
});
