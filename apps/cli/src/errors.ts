/** A mistake in how a command was called that commander cannot see (e.g. two options that exclude each other). */
export class UsageError extends Error {
  override name = 'UsageError';
}
