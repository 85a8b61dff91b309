import { randomUUID } from 'node:crypto';
import { createTestDb, seedProject, testDbKind } from '@llmops/testing';
import type { TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.ts';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.cleanup();
});

describe(`organisations and projects (${testDbKind()})`, () => {
  it('creates, finds by slug and id, and lists organisations', async () => {
    const org = await db.repos.orgs.create({ slug: 'acme', name: 'Acme' });
    expect(org).toMatchObject({ slug: 'acme', name: 'Acme' });
    expect(org.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(await db.repos.orgs.getBySlug('acme')).toEqual(org);
    expect(await db.repos.orgs.getById(org.id)).toEqual(org);
    expect(await db.repos.orgs.getById('not-a-uuid')).toBeNull();
    expect((await db.repos.orgs.list()).map((o) => o.slug)).toContain('acme');
  });

  it('keeps project slugs unique across organisations', async () => {
    const a = await db.repos.orgs.create({ slug: 'org-a', name: 'A' });
    const b = await db.repos.orgs.create({ slug: 'org-b', name: 'B' });
    const project = await db.repos.projects.create({ organisationId: a.id, slug: 'shared', name: 'Shared' });
    expect(await db.repos.projects.getBySlug('shared')).toEqual(project);
    expect(await db.repos.projects.getById(project.id)).toEqual(project);
    const clash = db.repos.projects.create({ organisationId: b.id, slug: 'shared', name: 'Other' });
    await expect(clash).rejects.toBeInstanceOf(ConflictError);
    await expect(clash).rejects.toMatchObject({ constraint: 'projects_slug_key' });
  });

  it('counts projects and lists those of a user with the role', async () => {
    const before = await db.repos.projects.count();
    const { project, user } = await seedProject(db, { role: 'editor' });
    await seedProject(db);
    expect(await db.repos.projects.count()).toBe(before + 2);
    expect(await db.repos.projects.listForUser(user.id)).toEqual([{ ...project, role: 'editor' }]);
  });

  it('records organisation administrators', async () => {
    const org = await db.repos.orgs.create({ slug: 'admins', name: 'Admins' });
    const user = await db.repos.users.create({ name: 'root' });
    expect(await db.repos.orgAdmins.isAdmin(user.id)).toBe(false);
    await db.repos.orgAdmins.add(org.id, user.id);
    await db.repos.orgAdmins.add(org.id, user.id);
    expect(await db.repos.orgAdmins.isAdmin(user.id)).toBe(true);
    expect(await db.repos.orgAdmins.isAdmin(user.id, org.id)).toBe(true);
    expect(await db.repos.orgAdmins.listUserIds(org.id)).toEqual([user.id]);
    expect(await db.repos.orgAdmins.remove(org.id, user.id)).toBe(true);
    expect(await db.repos.orgAdmins.isAdmin(user.id)).toBe(false);
  });
});

describe(`users and members (${testDbKind()})`, () => {
  it('creates users with an optional unique email', async () => {
    const anon = await db.repos.users.create({ name: 'anon' });
    expect(anon.email).toBeNull();
    expect(await db.repos.users.getById(anon.id)).toEqual(anon);
    expect(await db.repos.users.getById(randomUUID())).toBeNull();
    await db.repos.users.create({ name: 'a', email: 'same@example.test' });
    await expect(db.repos.users.create({ name: 'b', email: 'same@example.test' })).rejects.toMatchObject({
      constraint: 'users_email_key',
    });
  });

  it('upserts a role, reads it, lists members with names and removes them', async () => {
    const { project, user: admin } = await seedProject(db);
    const bob = await db.repos.users.create({ name: 'bob' });
    const added = await db.repos.members.upsert({ projectId: project.id, userId: bob.id, role: 'viewer' });
    expect(added).toMatchObject({ projectId: project.id, userId: bob.id, role: 'viewer' });
    await db.repos.members.upsert({ projectId: project.id, userId: bob.id, role: 'editor' });
    expect(await db.repos.members.getRole(project.id, bob.id)).toBe('editor');
    const members = await db.repos.members.list(project.id);
    expect(members.map((m) => [m.userName, m.role])).toEqual([
      ['bob', 'editor'],
      [admin.name, 'admin'],
    ]);
    expect(await db.repos.members.remove(project.id, bob.id)).toBe(true);
    expect(await db.repos.members.remove(project.id, bob.id)).toBe(false);
    expect(await db.repos.members.getRole(project.id, bob.id)).toBeNull();
  });

  it('refuses an unknown role with a message naming it', async () => {
    const { project, user } = await seedProject(db);
    const upsert = db.repos.members.upsert({
      projectId: project.id,
      userId: user.id,
      role: 'owner' as 'admin',
    });
    await expect(upsert).rejects.toThrow('role must be one of viewer, editor, admin, got "owner"');
  });
});

describe(`api tokens (${testDbKind()})`, () => {
  const tokenFor = async (overrides: { expiresAt?: string } = {}) => {
    const { project, user } = await seedProject(db);
    const tokenHash = randomUUID().replace(/-/g, '');
    const token = await db.repos.tokens.create({
      userId: user.id,
      name: 'cli',
      tokenHash,
      prefix: 'llm_abcd',
      defaultProjectId: project.id,
      ...overrides,
    });
    return { token, tokenHash, user, project };
  };

  it('never returns the hash and finds an active token with its user', async () => {
    const { token, tokenHash, user } = await tokenFor();
    expect(token).not.toHaveProperty('tokenHash');
    expect(JSON.stringify(await db.repos.tokens.listForUser(user.id))).not.toContain(tokenHash);
    const found = await db.repos.tokens.findActiveByHash(tokenHash);
    expect(found?.user).toEqual(user);
    expect(found?.token).toMatchObject({ id: token.id, prefix: 'llm_abcd', revokedAt: null });
    expect(found?.token).not.toHaveProperty('tokenHash');
  });

  it('resolves the caller, org-admin flag, project and role in one call', async () => {
    const { token, tokenHash, user, project } = await tokenFor();
    const byDefault = await db.repos.tokens.resolveCaller(tokenHash, null);
    expect(byDefault).toMatchObject({
      token: { id: token.id },
      user: { id: user.id },
      orgAdmin: false,
      project: { id: project.id, slug: project.slug },
      role: 'admin',
    });
    const other = await seedProject(db);
    const elsewhere = await db.repos.tokens.resolveCaller(tokenHash, other.project.slug);
    expect(elsewhere).toMatchObject({ project: { id: other.project.id }, role: null });
    expect(await db.repos.tokens.resolveCaller(tokenHash, 'no-such-project')).toMatchObject({
      project: null,
      role: null,
    });
    await db.repos.orgAdmins.add(other.org.id, user.id);
    expect((await db.repos.tokens.resolveCaller(tokenHash, null))?.orgAdmin).toBe(true);
    await db.repos.tokens.revoke(token.id);
    expect(await db.repos.tokens.resolveCaller(tokenHash, null)).toBeNull();
  });

  it('touches last_used_at at most once a minute', async () => {
    const { token, tokenHash } = await tokenFor();
    expect(token.lastUsedAt).toBeNull();
    const first = await db.repos.tokens.findActiveByHash(tokenHash);
    expect(first?.token.lastUsedAt).not.toBeNull();
    const second = await db.repos.tokens.findActiveByHash(tokenHash);
    expect(second?.token.lastUsedAt).toBe(first?.token.lastUsedAt);
    await db.sql.query("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = $1", [
      token.id,
    ]);
    const third = await db.repos.tokens.findActiveByHash(tokenHash);
    // Moved from two minutes ago to now.
    expect(Date.parse(third!.token.lastUsedAt!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('does not find a revoked token; revoking twice or as another user fails', async () => {
    const { token, tokenHash, user } = await tokenFor();
    const stranger = await db.repos.users.create({ name: 'stranger' });
    expect(await db.repos.tokens.revoke(token.id, stranger.id)).toBe(false);
    expect(await db.repos.tokens.revoke(token.id, user.id)).toBe(true);
    expect(await db.repos.tokens.revoke(token.id)).toBe(false);
    expect(await db.repos.tokens.findActiveByHash(tokenHash)).toBeNull();
    const [listed] = await db.repos.tokens.listForUser(user.id);
    expect(listed?.revokedAt).not.toBeNull();
  });

  it('does not find an expired token', async () => {
    const { tokenHash } = await tokenFor({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(await db.repos.tokens.findActiveByHash(tokenHash)).toBeNull();
    const { tokenHash: fresh } = await tokenFor({
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(await db.repos.tokens.findActiveByHash(fresh)).not.toBeNull();
  });

  it('rejects a duplicate hash as a conflict', async () => {
    const { tokenHash, user } = await tokenFor();
    const again = db.repos.tokens.create({
      userId: user.id,
      name: 'x',
      tokenHash,
      prefix: 'p',
      defaultProjectId: null,
    });
    await expect(again).rejects.toMatchObject({ constraint: 'api_tokens_token_hash_key' });
  });
});
