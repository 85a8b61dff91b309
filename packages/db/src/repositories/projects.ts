import { randomUUID } from 'node:crypto';
import { isUuid, toIso, toNumber } from '../rows.ts';
import type { Sql } from '../sql.ts';
import type { Role } from './members.ts';

export interface ProjectRow {
  id: string;
  organisationId: string;
  slug: string;
  name: string;
  createdAt: string;
}

export interface ProjectWithRole extends ProjectRow {
  role: Role;
}

interface ProjectRecord {
  id: string;
  organisation_id: string;
  slug: string;
  name: string;
  created_at: Date;
}

const COLUMNS = 'p.id, p.organisation_id, p.slug, p.name, p.created_at';

function toProject(r: ProjectRecord): ProjectRow {
  return {
    id: r.id,
    organisationId: r.organisation_id,
    slug: r.slug,
    name: r.name,
    createdAt: toIso(r.created_at),
  };
}

export function createProjectsRepository(sql: Sql) {
  return {
    async create(input: {
      organisationId: string;
      slug: string;
      name: string;
      id?: string;
    }): Promise<ProjectRow> {
      const [row] = await sql.query<ProjectRecord>(
        `INSERT INTO projects AS p (id, organisation_id, slug, name) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [input.id ?? randomUUID(), input.organisationId, input.slug, input.name],
      );
      return toProject(row!);
    },

    async getBySlug(slug: string): Promise<ProjectRow | null> {
      const [row] = await sql.query<ProjectRecord>(`SELECT ${COLUMNS} FROM projects p WHERE p.slug = $1`, [
        slug,
      ]);
      return row ? toProject(row) : null;
    },

    async getById(id: string): Promise<ProjectRow | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql.query<ProjectRecord>(`SELECT ${COLUMNS} FROM projects p WHERE p.id = $1`, [id]);
      return row ? toProject(row) : null;
    },

    /** The projects the user is a member of, each with the user's role in it. */
    async listForUser(userId: string): Promise<ProjectWithRole[]> {
      if (!isUuid(userId)) return [];
      const rows = await sql.query<ProjectRecord & { role: Role }>(
        `SELECT ${COLUMNS}, m.role
           FROM projects p JOIN project_members m ON m.project_id = p.id
          WHERE m.user_id = $1
          ORDER BY p.slug`,
        [userId],
      );
      return rows.map((r) => ({ ...toProject(r), role: r.role }));
    },

    async count(): Promise<number> {
      const [row] = await sql.query<{ n: unknown }>('SELECT count(*) AS n FROM projects');
      return toNumber(row?.n ?? 0);
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
