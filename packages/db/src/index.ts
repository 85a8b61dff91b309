export { createDb, createMigratedPgliteImage, migratedPgliteImageKey } from './create-db.ts';
export type { Db, DbOptions } from './create-db.ts';
export { CHANGES_CHANNEL, publishChange } from './changes.ts';
export type { ChangeFeed, ChangeListener, ChangeTopic } from './changes.ts';
export type { Dialect, Sql } from './sql.ts';
export { ConflictError, DbError, isConflictError, isDbError } from './errors.ts';
export { checksumOf, loadMigrations, migrate, MIGRATIONS_DIR, pendingMigrations } from './migrations.ts';
export type { AppliedMigration, Migration } from './migrations.ts';
export { auditHash, canonicalJson, GENESIS_HASH } from './audit-chain.ts';
export type { AuditFields } from './audit-chain.ts';
export { MAX_PAGE_SIZE } from './rows.ts';
export type { ListResult, Page } from './rows.ts';
export { createRepositories } from './repositories/index.ts';
export type { Repositories } from './repositories/index.ts';
export type { OrgRow } from './repositories/orgs.ts';
export type { ProjectRow, ProjectWithRole } from './repositories/projects.ts';
export type { UserRow } from './repositories/users.ts';
export { ROLES } from './repositories/members.ts';
export type { MemberRow, MemberWithUser, Role } from './repositories/members.ts';
export type { CreateTokenInput, ResolvedCaller, TokenRow } from './repositories/tokens.ts';
export type { CreateModelInput, ListModelsFilter, ModelRow } from './repositories/models.ts';
export type {
  CreateDatasetInput,
  DatasetFormat,
  DatasetRow,
  ListDatasetsFilter,
} from './repositories/datasets.ts';
export { JOB_STATUSES, SUBMISSION_KINDS } from './repositories/jobs.ts';
export type {
  AppendJobEventInput,
  CreateJobInput,
  JobEventRow,
  JobRow,
  JobStatus,
  ListJobsFilter,
  SubmissionKind,
} from './repositories/jobs.ts';
export type { CreateEndpointInput, EndpointRow } from './repositories/endpoints.ts';
export type { Compliance } from './repositories/compliance.ts';
export { LIVE_REVISION_STATES } from './repositories/revisions.ts';
export type {
  AppendEndpointEventInput,
  CreateRevisionInput,
  EndpointEventRow,
  RevisionMode,
  RevisionPatch,
  RevisionRow,
  RevisionRowState,
} from './repositories/revisions.ts';
export type {
  IdempotentOutcome,
  IdempotentResourceType,
  IdempotentRunInput,
} from './repositories/idempotency.ts';
export type { AppendAuditInput, AuditRow, AuditVerification, ListAuditFilter } from './repositories/audit.ts';
export { OUTBOX_KINDS, TRACKING_STATUSES } from './repositories/tracking.ts';
export type { JobTracking, OutboxKind, OutboxRow, TrackingStatus } from './repositories/tracking.ts';
export type { AliasMoveKind, AliasMoveRow, AppendAliasMoveInput } from './repositories/registry.ts';
