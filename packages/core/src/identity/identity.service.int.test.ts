import { createTestDb, seedProject, testDbKind, type TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityService } from './identity.service.ts';
import { generateToken, hashToken, tokenDisplayPrefix } from './tokens.ts';

// The caller cache: a token is looked up once per second per process, and every change made through the
// service (revocation, membership) applies at once.

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => db?.cleanup());

async function tokenFor(userId: string, projectId: string) {
  const secret = generateToken();
  const row = await db.repos.tokens.create({
    userId,
    name: 'test',
    prefix: tokenDisplayPrefix(secret),
    tokenHash: hashToken(secret),
    defaultProjectId: projectId,
  });
  return { secret, id: row.id };
}

describe(`caller cache (${testDbKind()})`, () => {
  it('answers repeated calls from memory, and a revocation through the service applies at once', async () => {
    const { project, user } = await seedProject(db);
    const { secret, id } = await tokenFor(user.id, project.id);
    const identity = createIdentityService(db, { callerCacheMs: 60_000 });
    const first = await identity.authenticate(secret, undefined);
    expect(first).toMatchObject({ userId: user.id, role: 'admin' });
    // Revoked behind the service's back (another process): still remembered within the cache time.
    await db.repos.tokens.revoke(id);
    expect(await identity.authenticate(secret, undefined)).toEqual(first);
    // Any change through this service forgets what it remembered.
    const admin = { ...first };
    await identity.listTokens(admin);
    await expect(identity.revokeToken(admin, id)).rejects.toThrow(/not found/i);
    await expect(identity.authenticate(secret, undefined)).rejects.toThrow(/revoked/);
  });

  it('does not remember refusals, and with a zero cache time reads every time', async () => {
    const { project, user } = await seedProject(db);
    const identity = createIdentityService(db, { callerCacheMs: 60_000 });
    await expect(identity.authenticate('llmops_nope', undefined)).rejects.toThrow(/Invalid/);
    const { secret, id } = await tokenFor(user.id, project.id);
    expect((await identity.authenticate(secret, undefined)).userId).toBe(user.id);

    const uncached = createIdentityService(db, { callerCacheMs: 0 });
    expect((await uncached.authenticate(secret, undefined)).userId).toBe(user.id);
    await db.repos.tokens.revoke(id);
    await expect(uncached.authenticate(secret, undefined)).rejects.toThrow(/revoked/);
  });
});
