import { isUuid, toIso } from '../rows.ts';
import type { Sql } from '../sql.ts';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface MemberRow {
  projectId: string;
  userId: string;
  role: Role;
  createdAt: string;
}

export interface MemberWithUser extends MemberRow {
  userName: string;
  userEmail: string | null;
}

interface MemberRecord {
  project_id: string;
  user_id: string;
  role: Role;
  created_at: Date;
}

const COLUMNS = 'm.project_id, m.user_id, m.role, m.created_at';

function toMember(r: MemberRecord): MemberRow {
  return { projectId: r.project_id, userId: r.user_id, role: r.role, createdAt: toIso(r.created_at) };
}

export function createMembersRepository(sql: Sql) {
  return {
    /** Adds the user to the project, or changes the role of an existing member. */
    async upsert(input: { projectId: string; userId: string; role: Role }): Promise<MemberRow> {
      if (!ROLES.includes(input.role)) {
        throw new RangeError(`role must be one of ${ROLES.join(', ')}, got "${String(input.role)}"`);
      }
      const [row] = await sql.query<MemberRecord>(
        `INSERT INTO project_members AS m (project_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role
         RETURNING ${COLUMNS}`,
        [input.projectId, input.userId, input.role],
      );
      return toMember(row!);
    },

    async getRole(projectId: string, userId: string): Promise<Role | null> {
      if (!isUuid(projectId) || !isUuid(userId)) return null;
      const [row] = await sql.query<{ role: Role }>(
        'SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2',
        [projectId, userId],
      );
      return row?.role ?? null;
    },

    async list(projectId: string): Promise<MemberWithUser[]> {
      if (!isUuid(projectId)) return [];
      const rows = await sql.query<MemberRecord & { user_name: string; user_email: string | null }>(
        `SELECT ${COLUMNS}, u.name AS user_name, u.email AS user_email
           FROM project_members m JOIN users u ON u.id = m.user_id
          WHERE m.project_id = $1
          ORDER BY u.name, m.user_id`,
        [projectId],
      );
      return rows.map((r) => ({ ...toMember(r), userName: r.user_name, userEmail: r.user_email }));
    },

    async remove(projectId: string, userId: string): Promise<boolean> {
      if (!isUuid(projectId) || !isUuid(userId)) return false;
      const rows = await sql.query(
        'DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 RETURNING user_id',
        [projectId, userId],
      );
      return rows.length > 0;
    },
  };
}

export type MembersRepository = ReturnType<typeof createMembersRepository>;
