import type { Sql } from '../sql.ts';
import { createAuditRepository } from './audit.ts';
import { createDatasetsRepository } from './datasets.ts';
import { createEndpointsRepository } from './endpoints.ts';
import { createIdempotencyRepository } from './idempotency.ts';
import { createJobsRepository } from './jobs.ts';
import { createMembersRepository } from './members.ts';
import { createModelsRepository } from './models.ts';
import { createOrgAdminsRepository } from './org-admins.ts';
import { createOrgsRepository } from './orgs.ts';
import { createProjectsRepository } from './projects.ts';
import { createRegistryRepository } from './registry.ts';
import { createRevisionsRepository } from './revisions.ts';
import { createTokensRepository } from './tokens.ts';
import { createTrackingRepository } from './tracking.ts';
import { createUsersRepository } from './users.ts';

/**
 * All repositories bound to one handle. Calls made inside `sql.transaction(fn)` join that
 * transaction (see `Sql`); `createRepositories(tx)` binds them to a transaction handle explicitly.
 */
export function createRepositories(sql: Sql) {
  return {
    orgs: createOrgsRepository(sql),
    orgAdmins: createOrgAdminsRepository(sql),
    projects: createProjectsRepository(sql),
    users: createUsersRepository(sql),
    members: createMembersRepository(sql),
    tokens: createTokensRepository(sql),
    models: createModelsRepository(sql),
    datasets: createDatasetsRepository(sql),
    jobs: createJobsRepository(sql),
    endpoints: createEndpointsRepository(sql),
    revisions: createRevisionsRepository(sql),
    idempotency: createIdempotencyRepository(sql),
    audit: createAuditRepository(sql),
    registry: createRegistryRepository(sql),
    tracking: createTrackingRepository(sql),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
