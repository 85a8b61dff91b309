// Errors carry a registered symbol so callers in other packages (or a second copy of this module)
// can recognise them without `instanceof`.
const DB_ERROR = Symbol.for('llmops.db.error');

export class DbError extends Error {
  readonly [DB_ERROR] = true;
  /** SQLSTATE when the error came from PostgreSQL, otherwise a short internal code. */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DbError';
    this.code = options.code ?? 'db_error';
  }
}

/** A unique constraint was violated (SQLSTATE 23505); `constraint` names it. */
export class ConflictError extends DbError {
  readonly constraint: string | null;

  constructor(message: string, constraint: string | null, cause?: unknown) {
    super(message, { code: '23505', cause });
    this.name = 'ConflictError';
    this.constraint = constraint;
  }
}

export function isDbError(value: unknown): value is DbError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DB_ERROR] === true;
}

export function isConflictError(value: unknown): value is ConflictError {
  return isDbError(value) && value.code === '23505';
}

interface DriverErrorShape {
  message?: unknown;
  code?: unknown;
  constraint?: unknown;
}

/** Both drivers raise errors with the PostgreSQL fields (`code`, `constraint`); map them once here. */
export function toDbError(error: unknown): DbError {
  if (isDbError(error)) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as DriverErrorShape;
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  if (code === '23505') {
    const constraint = typeof shape.constraint === 'string' ? shape.constraint : null;
    return new ConflictError(message, constraint, error);
  }
  return new DbError(message, { code, cause: error });
}
