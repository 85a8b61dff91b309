import { randomBytes } from 'node:crypto';
import type { Db, OrgRow, ProjectRow, Role, UserRow } from '@llmops/db';

export interface SeededProject {
  org: OrgRow;
  project: ProjectRow;
  user: UserRow;
}

function suffix(): string {
  return randomBytes(4).toString('hex');
}

/** An organisation, a project in it and a user who is a member with `role` (admin by default). */
export async function seedProject(
  db: Db,
  options: { role?: Role; slug?: string } = {},
): Promise<SeededProject> {
  const id = suffix();
  const org = await db.repos.orgs.create({ slug: `org-${id}`, name: `Org ${id}` });
  const project = await db.repos.projects.create({
    organisationId: org.id,
    slug: options.slug ?? `project-${id}`,
    name: `Project ${id}`,
  });
  const user = await db.repos.users.create({ name: `user-${id}`, email: `user-${id}@example.test` });
  await db.repos.members.upsert({ projectId: project.id, userId: user.id, role: options.role ?? 'admin' });
  return { org, project, user };
}

/** A catalog model in the project with plausible defaults; override any field. */
export async function seedModel(
  db: Db,
  projectId: string,
  overrides: Partial<Parameters<Db['repos']['models']['create']>[0]> = {},
) {
  return db.repos.models.create({
    projectId,
    name: `model-${suffix()}`,
    modelFamily: 'llama',
    maxPositionEmbeddings: 4096,
    parameterCount: 8_000_000_000,
    createdBy: 'test',
    ...overrides,
  });
}

/** A serving endpoint row in the project (no revisions) with plausible defaults; override any field. */
export async function seedEndpoint(
  db: Db,
  projectId: string,
  createdBy: string,
  overrides: Partial<Parameters<Db['repos']['endpoints']['create']>[0]> = {},
) {
  return db.repos.endpoints.create({
    projectId,
    route: `/endpoint-${suffix()}`,
    environment: 'dev',
    modelRef: 'm',
    spec: {},
    request: {},
    image: 'img',
    imageVariant: 'cpu',
    imageReason: 'test',
    createdBy,
    ...overrides,
  });
}
