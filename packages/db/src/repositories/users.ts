import { randomUUID } from 'node:crypto';
import { isUuid, toIso } from '../rows.ts';
import type { Sql } from '../sql.ts';

export interface UserRow {
  id: string;
  name: string;
  email: string | null;
  createdAt: string;
}

export interface UserRecord {
  id: string;
  name: string;
  email: string | null;
  created_at: Date;
}

export const USER_COLUMNS = 'id, name, email, created_at';

export function toUser(r: UserRecord): UserRow {
  return { id: r.id, name: r.name, email: r.email, createdAt: toIso(r.created_at) };
}

export function createUsersRepository(sql: Sql) {
  return {
    async create(input: { name: string; email?: string | null; id?: string }): Promise<UserRow> {
      const [row] = await sql.query<UserRecord>(
        `INSERT INTO users (id, name, email) VALUES ($1, $2, $3) RETURNING ${USER_COLUMNS}`,
        [input.id ?? randomUUID(), input.name, input.email ?? null],
      );
      return toUser(row!);
    },

    async getById(id: string): Promise<UserRow | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
      return row ? toUser(row) : null;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
