/** One problem found in the configuration; `location` names a file (and JSON path) or a variable. */
export interface ConfigIssue {
  readonly location: string;
  readonly message: string;
}

const CONFIG_ERROR = Symbol.for('llmops.config-error');

/**
 * Invalid configuration. Thrown at boot so the process stops before it serves anything; the message
 * holds one line per problem (`config/platform.yaml: images.train.SFT.cpu: Required`).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];
  readonly [CONFIG_ERROR] = true;

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((issue) => `${issue.location}: ${issue.message}`).join('\n'));
    this.issues = issues;
  }
}

/** Realm-independent check: two copies of this package (or a bundled one) still agree. */
export function isConfigError(error: unknown): error is ConfigError {
  return (
    typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[CONFIG_ERROR] === true
  );
}
