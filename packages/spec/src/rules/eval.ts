import type { EvalSpec } from '../submissions.ts';
import { violation, type Rule, type RuleViolation } from './types.ts';

export const evalThresholdsValid: Rule<EvalSpec, unknown> = {
  name: 'evalThresholdsValid',
  codes: ['EVAL_THRESHOLD_EMPTY'],
  check(spec) {
    const out: RuleViolation[] = [];
    for (const [metric, t] of Object.entries(spec.thresholds)) {
      const path = `evalSpec.thresholds.${metric}`;
      if (t.min === undefined && t.max === undefined)
        out.push(violation('EVAL_THRESHOLD_EMPTY', path, `threshold '${metric}' needs min or max`));
      else if (t.min !== undefined && t.max !== undefined && t.min > t.max)
        out.push(
          violation('EVAL_THRESHOLD_EMPTY', path, `threshold '${metric}' has min ${t.min} > max ${t.max}`),
        );
    }
    return out;
  },
};

export const EVAL_RULES = [evalThresholdsValid] as const;
