import { createTestDb, seedProject, testDbKind, type TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityService } from './identity.service.ts';
import { generateToken, hashToken, tokenDisplayPrefix } from './tokens.ts';

// The caller cache: a token is looked up once and remembered, and every change made through the service
// (revocation, membership), in this process or another sharing the database, applies at once.

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => db?.cleanup());

async function tokenFor(userId: string, projectId: string, expiresAt?: Date) {
  const secret = generateToken();
  const row = await db.repos.tokens.create({
    userId,
    name: 'test',
    prefix: tokenDisplayPrefix(secret),
    tokenHash: hashToken(secret),
    defaultProjectId: projectId,
    ...(expiresAt ? { expiresAt } : {}),
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

  it("a change made through another process's service applies here as soon as its notice arrives", async () => {
    const { project, user } = await seedProject(db);
    const { secret, id } = await tokenFor(user.id, project.id);
    const here = createIdentityService(db, { callerCacheMs: 60_000 });
    const there = createIdentityService(db, { callerCacheMs: 60_000 });
    const admin = await here.authenticate(secret, undefined);
    await tick(200); // the cache listens from its creation on
    await there.revokeToken(admin, id);
    const until = Date.now() + 5000;
    let refused = false;
    while (!refused && Date.now() < until) {
      refused = await here.authenticate(secret, undefined).then(
        () => false,
        () => true,
      );
      if (!refused) await tick(20);
    }
    expect(refused).toBe(true);
  });

  it('forgets a remembered caller when its token expires', async () => {
    const { project, user } = await seedProject(db);
    const { secret } = await tokenFor(user.id, project.id, new Date(Date.now() + 1500));
    const identity = createIdentityService(db, { callerCacheMs: 60_000 });
    expect((await identity.authenticate(secret, undefined)).userId).toBe(user.id);
    await tick(1700);
    await expect(identity.authenticate(secret, undefined)).rejects.toThrow(/expired/);
  });
});
