import type { Actor, ActorProject } from '../identity/actor.ts';
import type { RegistryStage } from '@llmops/spec';
import type { ModelVersion, RegisteredModel } from '@llmops/integrations-mlflow';

/** What a gate sees: who promotes which version to which stage, and where the stage points now. */
export interface PromotionContext {
  actor: Actor;
  project: ActorProject;
  model: RegisteredModel;
  version: ModelVersion;
  stage: RegistryStage;
  /** The version the stage's alias points at before the move; null when the alias is not set. */
  currentVersion: string | null;
}

export interface GateVerdict {
  allowed: boolean;
  /** Why; shown to the caller when the gate refuses. */
  reason: string;
}

/**
 * One check a promotion must pass before the alias moves (an evaluation threshold, an approval, …).
 * Gates run in order under the alias lock; the first refusal stops the promotion and nothing moves.
 */
export interface PromotionGate {
  name: string;
  check(ctx: PromotionContext): Promise<GateVerdict> | GateVerdict;
}

export type GateOutcome = { allowed: true } | { allowed: false; gate: string; reason: string };

/** Runs the gates in order; a gate that throws refuses the promotion with its error as the reason. */
export async function runPromotionGates(
  gates: readonly PromotionGate[],
  ctx: PromotionContext,
): Promise<GateOutcome> {
  for (const gate of gates) {
    let verdict: GateVerdict;
    try {
      verdict = await gate.check(ctx);
    } catch (e) {
      return {
        allowed: false,
        gate: gate.name,
        reason: `the gate failed: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    if (!verdict.allowed) return { allowed: false, gate: gate.name, reason: verdict.reason };
  }
  return { allowed: true };
}
