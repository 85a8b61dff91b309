import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'llmops_';

/** A new bearer token: a fixed prefix (so secret scanners can find leaked ones) and 32 random bytes. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are high-entropy, so a plain SHA-256 is enough (no password-style KDF needed on the hot path). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The first characters users see in token lists, enough to tell tokens apart. */
export function tokenDisplayPrefix(token: string): string {
  return token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 8);
}
