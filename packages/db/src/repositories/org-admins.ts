import { isUuid } from '../rows.ts';
import type { Sql } from '../sql.ts';

export function createOrgAdminsRepository(sql: Sql) {
  return {
    /** Idempotent: adding an existing administrator changes nothing. */
    async add(organisationId: string, userId: string): Promise<void> {
      await sql.query(
        `INSERT INTO organisation_admins (organisation_id, user_id) VALUES ($1, $2)
         ON CONFLICT (organisation_id, user_id) DO NOTHING`,
        [organisationId, userId],
      );
    },

    /** Administrator of the given organisation, or of any organisation when none is given. */
    async isAdmin(userId: string, organisationId?: string): Promise<boolean> {
      if (!isUuid(userId) || (organisationId !== undefined && !isUuid(organisationId))) return false;
      const rows = await sql.query(
        `SELECT 1 FROM organisation_admins
          WHERE user_id = $1 AND ($2::uuid IS NULL OR organisation_id = $2::uuid) LIMIT 1`,
        [userId, organisationId ?? null],
      );
      return rows.length > 0;
    },

    async listUserIds(organisationId: string): Promise<string[]> {
      if (!isUuid(organisationId)) return [];
      const rows = await sql.query<{ user_id: string }>(
        'SELECT user_id FROM organisation_admins WHERE organisation_id = $1 ORDER BY created_at, user_id',
        [organisationId],
      );
      return rows.map((r) => r.user_id);
    },

    async remove(organisationId: string, userId: string): Promise<boolean> {
      if (!isUuid(organisationId) || !isUuid(userId)) return false;
      const rows = await sql.query(
        'DELETE FROM organisation_admins WHERE organisation_id = $1 AND user_id = $2 RETURNING user_id',
        [organisationId, userId],
      );
      return rows.length > 0;
    },
  };
}

export type OrgAdminsRepository = ReturnType<typeof createOrgAdminsRepository>;
