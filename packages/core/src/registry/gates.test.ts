import { describe, expect, it } from 'vitest';
import { runPromotionGates, type PromotionContext, type PromotionGate } from './gates.ts';

const ctx = { stage: 'prod', currentVersion: '1' } as unknown as PromotionContext;

describe('runPromotionGates', () => {
  it('allows a promotion when there are no gates', async () => {
    expect(await runPromotionGates([], ctx)).toEqual({ allowed: true });
  });

  it('runs gates in order and stops at the first refusal, with its name and reason', async () => {
    const ran: string[] = [];
    const gate = (name: string, allowed: boolean): PromotionGate => ({
      name,
      check: async () => {
        ran.push(name);
        return { allowed, reason: allowed ? 'ok' : `${name} says no` };
      },
    });
    const out = await runPromotionGates([gate('a', true), gate('eval', false), gate('approval', false)], ctx);
    expect(out).toEqual({ allowed: false, gate: 'eval', reason: 'eval says no' });
    expect(ran).toEqual(['a', 'eval']);
  });

  it('passes the promotion context to each gate (sync gates too)', async () => {
    const seen: PromotionContext[] = [];
    const out = await runPromotionGates(
      [
        {
          name: 'sync',
          check: (c) => (seen.push(c), { allowed: c.stage !== 'prod', reason: 'no prod on Fridays' }),
        },
      ],
      ctx,
    );
    expect(seen).toEqual([ctx]);
    expect(out).toEqual({ allowed: false, gate: 'sync', reason: 'no prod on Fridays' });
  });

  it('refuses when a gate throws, quoting the error', async () => {
    const out = await runPromotionGates(
      [
        {
          name: 'eval',
          check: () => {
            throw new Error('evaluation store unreachable');
          },
        },
      ],
      ctx,
    );
    expect(out).toEqual({
      allowed: false,
      gate: 'eval',
      reason: 'the gate failed: evaluation store unreachable',
    });
  });
});
