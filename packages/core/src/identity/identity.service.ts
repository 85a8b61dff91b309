import { publishChange, type Db } from '@llmops/db';
import type { Role } from '@llmops/spec';
import { createError, notFound } from '../errors.ts';
import { requireRole, type Actor } from './actor.ts';
import { generateToken, hashToken, tokenDisplayPrefix } from './tokens.ts';

export interface BootstrapResult {
  created: boolean;
  /** Present only when the platform generated the admin token now; it is never shown again. */
  generatedToken: string | null;
  projectSlug: string;
}

export const DEFAULT_ORG = 'default';
export const DEFAULT_PROJECT = 'default';

/**
 * How long an authenticated caller is remembered at most (docs/decisions/0018-caller-cache.md, 0019): the
 * token lookup is the one database query on the inference path. Any identity change made through the
 * service, in this process or another sharing the database, empties every process's cache at once
 * through the database's change notifications; the limit bounds a lost notification. A token's own
 * expiry is kept too: a remembered caller is dropped when its token expires.
 */
export const CALLER_CACHE_MS = 30_000;
const CALLER_CACHE_MAX = 10_000;

export function createIdentityService(db: Db, opts: { callerCacheMs?: number } = {}) {
  const { repos } = db;
  const cacheMs = opts.callerCacheMs ?? CALLER_CACHE_MS;
  const callers = new Map<string, { until: number; actor: Promise<Actor> }>();
  if (cacheMs > 0) db.changes.subscribe('identity', () => callers.clear());

  async function resolveActor(
    hash: string,
    projectSlug: string | undefined,
    onExpiry: (at: number) => void = () => undefined,
  ): Promise<Actor> {
    const caller = await repos.tokens.resolveCaller(hash, projectSlug ?? null);
    if (!caller) throw createError('UNAUTHORIZED', 'Invalid, expired or revoked token');
    const { token, user, orgAdmin, project } = caller;
    if (token.expiresAt) onExpiry(Date.parse(token.expiresAt));
    const base = { userId: user.id, userName: user.name, tokenId: token.id, orgAdmin };
    // Organisation administrators may enter any project of the installation as admin.
    const role: Role | null = caller.role ?? (project && orgAdmin ? 'admin' : null);
    if (projectSlug && (!project || !role)) {
      // An unknown project and one the caller is not a member of look the same: no existence leak.
      throw createError('NOT_FOUND', `Project '${projectSlug}' not found`);
    }
    if (!project || !role) return { ...base, project: null, role: null };
    return { ...base, project, role };
  }

  async function resolveProject(userId: string, orgAdmin: boolean, slug: string) {
    const project = await repos.projects.getBySlug(slug);
    const role = project ? await repos.members.getRole(project.id, userId) : null;
    // An unknown project and one the caller is not a member of look the same: no existence leak.
    if (!project || (!role && !orgAdmin)) throw createError('NOT_FOUND', `Project '${slug}' not found`);
    return { project, role: role ?? ('admin' as Role) };
  }

  const service = {
    /**
     * First start: one organisation, the project `default`, an admin user and its token. The token comes
     * from LLMOPS_BOOTSTRAP_TOKEN when set, else it is generated and returned once.
     */
    async bootstrap(opts: { bootstrapToken?: string | undefined }): Promise<BootstrapResult> {
      if (opts.bootstrapToken !== undefined && opts.bootstrapToken.length < 16)
        throw createError('BAD_REQUEST', 'LLMOPS_BOOTSTRAP_TOKEN must be at least 16 characters');
      if ((await repos.projects.count()) > 0) {
        // Already bootstrapped; still honour a configured token so a restart with a new value works.
        if (opts.bootstrapToken) await ensureToken(opts.bootstrapToken);
        return { created: false, generatedToken: null, projectSlug: DEFAULT_PROJECT };
      }
      return db.sql.transaction(async () => {
        const org =
          (await repos.orgs.getBySlug(DEFAULT_ORG)) ??
          (await repos.orgs.create({ slug: DEFAULT_ORG, name: 'Default organisation' }));
        const project = await repos.projects.create({
          organisationId: org.id,
          slug: DEFAULT_PROJECT,
          name: 'Default project',
        });
        const user = await repos.users.create({ name: 'admin' });
        await repos.orgAdmins.add(org.id, user.id);
        await repos.members.upsert({ projectId: project.id, userId: user.id, role: 'admin' });
        const token = opts.bootstrapToken ?? generateToken();
        await repos.tokens.create({
          userId: user.id,
          name: 'bootstrap-admin',
          tokenHash: hashToken(token),
          prefix: tokenDisplayPrefix(token),
          defaultProjectId: project.id,
        });
        return {
          created: true,
          generatedToken: opts.bootstrapToken ? null : token,
          projectSlug: project.slug,
        };
      });
    },

    /** Bearer token → actor in the requested (or default) project. Unknown token → 401. */
    async authenticate(bearer: string | undefined, projectSlug: string | undefined): Promise<Actor> {
      if (!bearer)
        throw createError('UNAUTHORIZED', 'Missing bearer token: send "Authorization: Bearer <token>"');
      const hash = hashToken(bearer);
      if (cacheMs <= 0) return resolveActor(hash, projectSlug);
      const key = `${hash}\0${projectSlug ?? ''}`;
      const hit = callers.get(key);
      if (hit && Date.now() < hit.until) return hit.actor;
      if (callers.size >= CALLER_CACHE_MAX) callers.clear();
      const entry = { until: Date.now() + cacheMs, actor: null as unknown as Promise<Actor> };
      const actor = resolveActor(hash, projectSlug, (expiry) => {
        entry.until = Math.min(entry.until, expiry);
      });
      entry.actor = actor;
      callers.set(key, entry);
      // Refusals are not remembered: a token created a moment later works at once.
      actor.catch(() => callers.delete(key));
      return actor;
    },

    async listOrganisations(actor: Actor) {
      const all = await repos.orgs.list();
      return actor.orgAdmin ? all : all.filter((o) => o.id === actor.project?.organisationId);
    },

    async createOrganisation(actor: Actor, input: { slug: string; name: string }) {
      if (!actor.orgAdmin)
        throw createError('FORBIDDEN', 'Only organisation administrators can create organisations');
      if (await repos.orgs.getBySlug(input.slug))
        throw createError('CONFLICT', `Organisation '${input.slug}' already exists`);
      const org = await repos.orgs.create(input);
      await repos.orgAdmins.add(org.id, actor.userId);
      return org;
    },

    async listProjects(actor: Actor) {
      return repos.projects.listForUser(actor.userId);
    },

    /** Any authenticated user may create a project in their organisation and becomes its admin. */
    async createProject(
      actor: Actor,
      input: { slug: string; name: string; organisation?: string | undefined },
    ) {
      const org = input.organisation ? await repos.orgs.getBySlug(input.organisation) : await orgOf(actor);
      if (!org) throw notFound('Organisation', input.organisation ?? '(yours)');
      if (input.organisation && !actor.orgAdmin && org.id !== actor.project?.organisationId)
        throw notFound('Organisation', input.organisation);
      if (await repos.projects.getBySlug(input.slug))
        throw createError('CONFLICT', `Project '${input.slug}' already exists`);
      return db.sql.transaction(async () => {
        const project = await repos.projects.create({
          organisationId: org.id,
          slug: input.slug,
          name: input.name,
        });
        await repos.members.upsert({ projectId: project.id, userId: actor.userId, role: 'admin' });
        return { ...project, role: 'admin' as Role };
      });
    },

    async listMembers(actor: Actor) {
      const project = requireRole(actor, 'viewer');
      return repos.members.list(project.id);
    },

    async addMember(
      actor: Actor,
      input: {
        userId?: string | undefined;
        name?: string | undefined;
        email?: string | undefined;
        role: Role;
      },
    ) {
      const project = requireRole(actor, 'admin');
      let userId = input.userId;
      if (userId) {
        if (!(await repos.users.getById(userId))) throw notFound('User', userId);
      } else {
        userId = (await repos.users.create({ name: input.name!, email: input.email })).id;
      }
      await repos.members.upsert({ projectId: project.id, userId, role: input.role });
      const members = await repos.members.list(project.id);
      return members.find((m) => m.userId === userId)!;
    },

    async removeMember(actor: Actor, userId: string) {
      const project = requireRole(actor, 'admin');
      if (userId === actor.userId) throw createError('CONFLICT', 'You cannot remove yourself from a project');
      if (!(await repos.members.remove(project.id, userId))) throw notFound('Member', userId);
    },

    async createToken(
      actor: Actor,
      input: {
        name: string;
        userId?: string | undefined;
        project?: string | undefined;
        expiresInDays?: number | undefined;
      },
    ) {
      const forUser = input.userId ?? actor.userId;
      const target = input.project
        ? (await resolveProject(actor.userId, actor.orgAdmin, input.project)).project
        : actor.project;
      if (forUser !== actor.userId) {
        // Issuing for someone else: admin of the token's project, and the user must be a member there.
        requireRole(actor, 'admin');
        if (!target || target.id !== actor.project?.id)
          throw createError(
            'FORBIDDEN',
            'Tokens for other users can only be issued for your current project',
          );
        if (!(await repos.members.getRole(target.id, forUser))) throw notFound('Member', forUser);
      }
      const token = generateToken();
      const expiresAt = input.expiresInDays
        ? new Date(Date.now() + input.expiresInDays * 86_400_000).toISOString()
        : null;
      const row = await repos.tokens.create({
        userId: forUser,
        name: input.name,
        tokenHash: hashToken(token),
        prefix: tokenDisplayPrefix(token),
        defaultProjectId: target?.id ?? null,
        expiresAt,
      });
      return { ...row, token };
    },

    async listTokens(actor: Actor) {
      return repos.tokens.listForUser(actor.userId);
    },

    async revokeToken(actor: Actor, tokenId: string) {
      if (!(await repos.tokens.revoke(tokenId, actor.userId))) throw notFound('Token', tokenId);
    },
  };
  // Every change to who may do what forgets the remembered callers, so it applies at once here.
  const mutation =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await f(...args);
      } finally {
        callers.clear();
        // Other processes forget theirs; if the notice cannot be sent, their time limit still applies.
        await publishChange(db.sql, 'identity', '*').catch(() => undefined);
      }
    };
  return {
    ...service,
    bootstrap: mutation(service.bootstrap),
    createOrganisation: mutation(service.createOrganisation),
    createProject: mutation(service.createProject),
    addMember: mutation(service.addMember),
    removeMember: mutation(service.removeMember),
    createToken: mutation(service.createToken),
    revokeToken: mutation(service.revokeToken),
  };

  async function orgOf(actor: Actor) {
    if (actor.project) return repos.orgs.getById ? repos.orgs.getById(actor.project.organisationId) : null;
    return repos.orgs.getBySlug(DEFAULT_ORG);
  }

  async function ensureToken(token: string) {
    if (await repos.tokens.findActiveByHash(hashToken(token))) return;
    const project = await repos.projects.getBySlug(DEFAULT_PROJECT);
    const admins = project ? await repos.members.list(project.id) : [];
    const admin = admins.find((m) => m.role === 'admin');
    if (!project || !admin) return;
    await repos.tokens.create({
      userId: admin.userId,
      name: 'bootstrap-admin',
      tokenHash: hashToken(token),
      prefix: tokenDisplayPrefix(token),
      defaultProjectId: project.id,
    });
  }
}

export type IdentityService = ReturnType<typeof createIdentityService>;
