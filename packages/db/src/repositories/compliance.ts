import type { RuleViolation } from '@llmops/spec';

/** Result of checking a stored job or endpoint against the current rules. */
export interface Compliance {
  compliant: boolean;
  violations: RuleViolation[];
}

export const COMPLIANT: Compliance = { compliant: true, violations: [] };
