import type { Role } from '@llmops/spec';
import { createError } from '../errors.ts';

export interface ActorProject {
  id: string;
  slug: string;
  organisationId: string;
}

/** Who is calling and in which project; built once per request by authentication. */
export interface Actor {
  userId: string;
  userName: string;
  tokenId: string;
  orgAdmin: boolean;
  project: ActorProject | null;
  role: Role | null;
}

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export function hasRole(actor: Actor, needed: Role): boolean {
  return actor.role !== null && RANK[actor.role] >= RANK[needed];
}

/** Returns the actor's project, or fails: 404 when no project is selected, 403 when the role is too low. */
export function requireRole(actor: Actor, needed: Role): ActorProject {
  if (!actor.project || !actor.role)
    throw createError(
      'NOT_FOUND',
      'No project selected: send the X-Project header or use a token with a default project',
    );
  if (!hasRole(actor, needed))
    throw createError(
      'FORBIDDEN',
      `This action needs the '${needed}' role in project '${actor.project.slug}'; you are '${actor.role}'`,
    );
  return actor.project;
}

export function actorLabel(actor: Actor): string {
  return `user:${actor.userId}`;
}
