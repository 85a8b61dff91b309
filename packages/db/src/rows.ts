import type { Sql } from './sql.ts';

// Helpers shared by the repositories to turn driver values into plain row objects. The two drivers
// differ: pg returns bigint and numeric as strings, PGlite returns bigint as a number; both return
// timestamptz as Date.

export function toIso(value: unknown): string {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw new TypeError(`expected a timestamp, got ${JSON.stringify(value) ?? typeof value}`);
  }
  return date.toISOString();
}

export function toIsoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value);
}

export function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`expected a number, got ${String(value)}`);
  return n;
}

export function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from URLs; a malformed one must mean "not found", not a database error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** jsonb parameters are passed as text: pg would turn a JS array into a PostgreSQL array. */
export function jsonParam(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value is not representable as JSON');
  return text;
}

export function optionalJsonParam(value: unknown): string | null {
  return value === undefined || value === null ? null : jsonParam(value);
}

/** A case-insensitive substring pattern with LIKE wildcards in the input taken literally. */
export function containsPattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface Page {
  limit: number;
  offset: number;
}

export const MAX_PAGE_SIZE = 1000;

export function assertPage(page: Page): void {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${String(page.limit)}`);
  }
  if (!Number.isInteger(page.offset) || page.offset < 0) {
    throw new RangeError(`offset must be a non-negative integer, got ${String(page.offset)}`);
  }
}

export interface ListResult<T> {
  items: T[];
  total: number;
}

/**
 * Builds a WHERE clause from optional filters; each condition uses `$?` where its parameter goes.
 * Keeps the numbering of positional parameters in one place.
 */
export class Where {
  readonly params: unknown[] = [];
  readonly #conditions: string[] = [];

  add(condition: string, ...values: unknown[]): this {
    let text = condition;
    for (const value of values) {
      this.params.push(value);
      const placeholder = `$${this.params.length}`;
      text = text.replace('$?', () => placeholder);
    }
    this.#conditions.push(text);
    return this;
  }

  get sql(): string {
    return this.#conditions.length === 0 ? '' : `WHERE ${this.#conditions.join(' AND ')}`;
  }

  /** The placeholder for one more parameter (LIMIT, OFFSET) appended after the filters. */
  next(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

export interface PageQuery {
  columns: string;
  from: string;
  where: Where;
  orderBy: string;
  page: Page;
}

/** One page of rows plus the total count under the same filters. */
export async function selectPage<R, T>(sql: Sql, q: PageQuery, map: (row: R) => T): Promise<ListResult<T>> {
  assertPage(q.page);
  const filter = q.where.sql;
  const countParams = [...q.where.params];
  const [count] = await sql.query<{ total: unknown }>(
    `SELECT count(*) AS total FROM ${q.from} ${filter}`,
    countParams,
  );
  const limit = q.where.next(q.page.limit);
  const offset = q.where.next(q.page.offset);
  const rows = await sql.query<R>(
    `SELECT ${q.columns} FROM ${q.from} ${filter} ORDER BY ${q.orderBy} LIMIT ${limit} OFFSET ${offset}`,
    q.where.params,
  );
  return { items: rows.map(map), total: toNumber(count?.total ?? 0) };
}
