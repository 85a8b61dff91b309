import { describe, expect, it } from 'vitest';
import { callerBucket, pickRevision, type RoutingTable } from './routing.ts';

const table = (revisions: RoutingTable['revisions']): RoutingTable => ({ endpointId: 'ep', revisions });
const rev = (
  id: string,
  seq: number,
  traffic: number,
  extra: Partial<{ shadow: boolean; mode: string }> = {},
) => ({
  id,
  seq,
  traffic,
  shadow: extra.shadow ?? false,
  mode: extra.mode ?? 'canary',
});

/** A deterministic stream of numbers in [0, 1). */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('pickRevision', () => {
  it('returns null when no revision has traffic', () => {
    expect(pickRevision(table([]), null)).toBeNull();
    expect(pickRevision(table([rev('a', 1, 0, { shadow: true })]), null)).toBeNull();
  });

  it('sends everything to a revision with 100 %', () => {
    for (let i = 0; i < 50; i++) expect(pickRevision(table([rev('a', 1, 100)]), null)?.revisionId).toBe('a');
  });

  it('splits a 90/10 canary close to its shares', () => {
    const t = table([rev('old', 1, 90), rev('new', 2, 10)]);
    const random = lcg(7);
    let toNew = 0;
    for (let i = 0; i < 10_000; i++) if (pickRevision(t, null, random)?.revisionId === 'new') toNew++;
    expect(toNew / 10_000).toBeGreaterThan(0.08);
    expect(toNew / 10_000).toBeLessThan(0.12);
  });

  it('keeps an A/B caller on the same revision and splits callers by their hash', () => {
    const t = table([rev('a', 1, 50, { mode: 'ab' }), rev('b', 2, 50, { mode: 'ab' })]);
    const first = pickRevision(t, 'user-42')!.revisionId;
    for (let i = 0; i < 20; i++) expect(pickRevision(t, 'user-42')!.revisionId).toBe(first);
    let onB = 0;
    for (let i = 0; i < 2000; i++) if (pickRevision(t, `user-${i}`)!.revisionId === 'b') onB++;
    expect(onB / 2000).toBeGreaterThan(0.45);
    expect(onB / 2000).toBeLessThan(0.55);
  });

  it('names the shadowing revision beside the one that answers', () => {
    const t = table([rev('old', 1, 100), rev('new', 2, 0, { shadow: true, mode: 'shadow' })]);
    expect(pickRevision(t, null)).toEqual({ revisionId: 'old', shadowId: 'new' });
  });

  it('gives callers stable buckets in 0…99 that depend on the endpoint', () => {
    expect(callerBucket('ep', 'x')).toBe(callerBucket('ep', 'x'));
    const buckets = new Set(Array.from({ length: 500 }, (_, i) => callerBucket('ep', `u${i}`)));
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(100);
    expect(buckets.size).toBeGreaterThan(90);
    const moved = Array.from(
      { length: 100 },
      (_, i) => callerBucket('ep', `u${i}`) !== callerBucket('other', `u${i}`),
    );
    expect(moved.filter(Boolean).length).toBeGreaterThan(80);
  });
});
