import { randomUUID } from 'node:crypto';
import { isUuid, toIso } from '../rows.ts';
import type { Sql } from '../sql.ts';

export interface OrgRow {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
}

interface OrgRecord {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
}

const COLUMNS = 'id, slug, name, created_at';

function toOrg(r: OrgRecord): OrgRow {
  return { id: r.id, slug: r.slug, name: r.name, createdAt: toIso(r.created_at) };
}

export function createOrgsRepository(sql: Sql) {
  return {
    async create(input: { slug: string; name: string; id?: string }): Promise<OrgRow> {
      const [row] = await sql.query<OrgRecord>(
        `INSERT INTO organisations (id, slug, name) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [input.id ?? randomUUID(), input.slug, input.name],
      );
      return toOrg(row!);
    },

    async getBySlug(slug: string): Promise<OrgRow | null> {
      const [row] = await sql.query<OrgRecord>(`SELECT ${COLUMNS} FROM organisations WHERE slug = $1`, [
        slug,
      ]);
      return row ? toOrg(row) : null;
    },

    async getById(id: string): Promise<OrgRow | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql.query<OrgRecord>(`SELECT ${COLUMNS} FROM organisations WHERE id = $1`, [id]);
      return row ? toOrg(row) : null;
    },

    async list(): Promise<OrgRow[]> {
      const rows = await sql.query<OrgRecord>(`SELECT ${COLUMNS} FROM organisations ORDER BY slug`);
      return rows.map(toOrg);
    },
  };
}

export type OrgsRepository = ReturnType<typeof createOrgsRepository>;
