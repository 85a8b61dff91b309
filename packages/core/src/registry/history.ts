import type { AliasMoveRow } from '@llmops/db';

export type RollbackPlan =
  { ok: true; target: string; reverts: AliasMoveRow } | { ok: false; reason: string };

type Move = Pick<AliasMoveRow, 'id' | 'kind' | 'fromVersion' | 'toVersion' | 'revertsId'>;

/**
 * Where a rollback moves the alias: back to where it pointed before the latest promote that no rollback
 * has undone yet. Promotes stack up and each rollback pops one, so rolling back twice after three
 * promotes lands on the first promoted version. Refused when there is nothing to undo, when the
 * promote being undone set the alias for the first time, or when the alias no longer points where the
 * history says (someone moved it outside the platform).
 */
export function planRollback(moves: readonly Move[], current: string | null, alias: string): RollbackPlan {
  const undone = new Set(moves.filter((m) => m.kind === 'rollback').map((m) => m.revertsId));
  const open = moves.filter((m) => m.kind === 'promote' && !undone.has(m.id));
  const last = open.at(-1);
  if (!last)
    return { ok: false, reason: `'${alias}' has no promotion to roll back: there is no previous version` };
  const lastMove = moves.at(-1)!;
  if (current !== lastMove.toVersion)
    return {
      ok: false,
      reason:
        `'${alias}' points at ${current === null ? 'no version' : `version ${current}`} but the platform last ` +
        `moved it to version ${lastMove.toVersion}; it was changed outside the platform — promote explicitly`,
    };
  if (last.fromVersion === null)
    return {
      ok: false,
      reason: `'${alias}' had no version before version ${last.toVersion} was promoted: there is no previous version`,
    };
  return { ok: true, target: last.fromVersion, reverts: last as AliasMoveRow };
}
