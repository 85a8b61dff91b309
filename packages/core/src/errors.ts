import { ERROR_CODES, type ErrorCode, type RuleViolation } from '@llmops/spec';

const MARK = Symbol.for('llmops.error');

/** The one error type services throw; the HTTP layer renders it as the `{status,message,data}` envelope. */
export class LlmopsError extends Error {
  readonly [MARK] = true;
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly violations: RuleViolation[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { violations?: RuleViolation[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'LlmopsError';
    this.code = code;
    this.statusCode = ERROR_CODES[code];
    this.violations = opts.violations;
    this.details = opts.details;
  }
}

/** Works across duplicated module copies, unlike `instanceof`. */
export function isLlmopsError(e: unknown): e is LlmopsError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[MARK] === true;
}

export function createError(
  code: ErrorCode,
  message: string,
  opts?: ConstructorParameters<typeof LlmopsError>[2],
): LlmopsError {
  return new LlmopsError(code, message, opts);
}

export function validationFailed(violations: RuleViolation[], what = 'Request'): LlmopsError {
  const first = violations[0];
  const summary = first ? `${first.code} at ${first.path}: ${first.message}` : 'invalid';
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
  return new LlmopsError('VALIDATION_FAILED', `${what} failed validation: ${summary}${more}`, { violations });
}

export const notFound = (what: string, id: string) =>
  new LlmopsError('NOT_FOUND', `${what} '${id}' not found`);

/** The body does not have the contract's shape (400), as opposed to breaking a rule (422). */
export function schemaInvalid(violations: RuleViolation[], what = 'Request'): LlmopsError {
  const v = validationFailed(violations, what);
  return new LlmopsError('BAD_REQUEST', v.message.replace('failed validation', 'is malformed'), {
    violations,
  });
}
