import { randomUUID } from 'node:crypto';
import { isUuid, toIso, toIsoOrNull } from '../rows.ts';
import type { Sql } from '../sql.ts';
import { toUser } from './users.ts';
import type { UserRecord, UserRow } from './users.ts';
import type { Role } from './members.ts';

/** The caller behind a bearer token, with the project a request addresses (null when none resolves). */
export interface ResolvedCaller {
  token: TokenRow;
  user: UserRow;
  orgAdmin: boolean;
  project: { id: string; organisationId: string; slug: string } | null;
  /** The user's role in `project`; null when not a member. */
  role: Role | null;
}

/** An API token as shown to its owner; the hash never leaves the repository. */
export interface TokenRow {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  defaultProjectId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
}

export interface CreateTokenInput {
  userId: string;
  name: string;
  tokenHash: string;
  prefix: string;
  defaultProjectId: string | null;
  expiresAt?: string | Date | null;
  id?: string;
}

interface TokenRecord {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  default_project_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
}

const COLUMNS =
  't.id, t.user_id, t.name, t.prefix, t.default_project_id, t.created_at, t.last_used_at, t.revoked_at, t.expires_at';

// Authentication runs on every request; writing last_used_at each time would turn reads into writes.
const TOUCH_INTERVAL = "interval '60 seconds'";

function toToken(r: TokenRecord): TokenRow {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    prefix: r.prefix,
    defaultProjectId: r.default_project_id,
    createdAt: toIso(r.created_at),
    lastUsedAt: toIsoOrNull(r.last_used_at),
    revokedAt: toIsoOrNull(r.revoked_at),
    expiresAt: toIsoOrNull(r.expires_at),
  };
}

export function createTokensRepository(sql: Sql) {
  return {
    async create(input: CreateTokenInput): Promise<TokenRow> {
      if (input.prefix.length > 8) {
        throw new RangeError(`prefix must be at most 8 characters, got ${input.prefix.length}`);
      }
      const [row] = await sql.query<TokenRecord>(
        `INSERT INTO api_tokens AS t (id, user_id, name, token_hash, prefix, default_project_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [
          input.id ?? randomUUID(),
          input.userId,
          input.name,
          input.tokenHash,
          input.prefix,
          input.defaultProjectId,
          input.expiresAt ?? null,
        ],
      );
      return toToken(row!);
    },

    /** The token and its user when the token is neither revoked nor expired; marks it used. */
    async findActiveByHash(tokenHash: string): Promise<{ token: TokenRow; user: UserRow } | null> {
      const [row] = await sql.query<
        TokenRecord & { u_name: string; u_email: string | null; u_created_at: Date; stale: boolean }
      >(
        `SELECT ${COLUMNS}, u.name AS u_name, u.email AS u_email, u.created_at AS u_created_at,
                (t.last_used_at IS NULL OR t.last_used_at < now() - ${TOUCH_INTERVAL}) AS stale
           FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = $1
            AND t.revoked_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > now())`,
        [tokenHash],
      );
      if (!row) return null;
      const token = toToken(row);
      if (row.stale) {
        const [touched] = await sql.query<{ last_used_at: Date }>(
          `UPDATE api_tokens SET last_used_at = now()
            WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - ${TOUCH_INTERVAL})
            RETURNING last_used_at`,
          [row.id],
        );
        if (touched) token.lastUsedAt = toIso(touched.last_used_at);
      }
      const user: UserRecord = {
        id: row.user_id,
        name: row.u_name,
        email: row.u_email,
        created_at: row.u_created_at,
      };
      return { token, user: toUser(user) };
    },

    /**
     * Everything a request needs to know about its caller in one round trip: the active token, its
     * user, whether the user administers an organisation, and the project (by slug, else the token's
     * default) with the user's role there. Authentication runs on every request, so this is the hot path.
     */
    async resolveCaller(tokenHash: string, projectSlug: string | null): Promise<ResolvedCaller | null> {
      const [row] = await sql.query<
        TokenRecord & {
          u_name: string;
          u_email: string | null;
          u_created_at: Date;
          stale: boolean;
          org_admin: boolean;
          p_id: string | null;
          p_organisation_id: string | null;
          p_slug: string | null;
          p_role: Role | null;
        }
      >(
        `SELECT ${COLUMNS}, u.name AS u_name, u.email AS u_email, u.created_at AS u_created_at,
                (t.last_used_at IS NULL OR t.last_used_at < now() - ${TOUCH_INTERVAL}) AS stale,
                EXISTS (SELECT 1 FROM organisation_admins oa WHERE oa.user_id = u.id) AS org_admin,
                p.id AS p_id, p.organisation_id AS p_organisation_id, p.slug AS p_slug, m.role AS p_role
           FROM api_tokens t
           JOIN users u ON u.id = t.user_id
           LEFT JOIN projects p ON (CASE WHEN $2::text IS NULL THEN p.id = t.default_project_id ELSE p.slug = $2::text END)
           LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = u.id
          WHERE t.token_hash = $1
            AND t.revoked_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > now())`,
        [tokenHash, projectSlug],
      );
      if (!row) return null;
      const token = toToken(row);
      if (row.stale) {
        await sql.query(
          `UPDATE api_tokens SET last_used_at = now()
            WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - ${TOUCH_INTERVAL})`,
          [row.id],
        );
      }
      const user = toUser({
        id: row.user_id,
        name: row.u_name,
        email: row.u_email,
        created_at: row.u_created_at,
      });
      const project =
        row.p_id && row.p_organisation_id && row.p_slug
          ? { id: row.p_id, organisationId: row.p_organisation_id, slug: row.p_slug }
          : null;
      return { token, user, orgAdmin: row.org_admin, project, role: row.p_role };
    },

    async listForUser(userId: string): Promise<TokenRow[]> {
      if (!isUuid(userId)) return [];
      const rows = await sql.query<TokenRecord>(
        `SELECT ${COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id`,
        [userId],
      );
      return rows.map(toToken);
    },

    /** Revokes an active token; with `userId`, only if it belongs to that user. */
    async revoke(id: string, userId?: string): Promise<boolean> {
      if (!isUuid(id) || (userId !== undefined && !isUuid(userId))) return false;
      const rows = await sql.query(
        `UPDATE api_tokens SET revoked_at = now()
          WHERE id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR user_id = $2::uuid)
          RETURNING id`,
        [id, userId ?? null],
      );
      return rows.length > 0;
    },
  };
}

export type TokensRepository = ReturnType<typeof createTokensRepository>;
