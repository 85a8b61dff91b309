import type { Db } from '@llmops/db';
import type { RuleViolation } from '@llmops/spec';
import { createError } from '../errors.ts';
import { requireRole, type Actor } from '../identity/actor.ts';
import type { ServingService } from '../serving/serving.service.ts';
import type { TrainingService } from '../training/training.service.ts';
import { fixFor } from './fix-hints.ts';

export interface RevalidationItem {
  id: string;
  kind: 'job' | 'endpoint';
  compliant: boolean;
  violations: RuleViolation[];
  fix: string[];
}

/**
 * FR-031: re-check stored jobs and endpoints against the current rules, configuration and catalog, and
 * record the outcome on each item; non-compliant items are refused for execution and updates.
 */
export function createComplianceService(deps: {
  db: Db;
  training: TrainingService;
  serving: ServingService;
}) {
  const { repos } = deps.db;

  const record = async (
    kind: 'job' | 'endpoint',
    id: string,
    violations: RuleViolation[],
  ): Promise<RevalidationItem> => {
    const compliance = { compliant: violations.length === 0, violations };
    if (kind === 'job') await repos.jobs.setCompliance(id, compliance);
    else await repos.endpoints.setCompliance(id, compliance);
    return { id, kind, compliant: compliance.compliant, violations, fix: violations.map(fixFor) };
  };

  const summarise = (items: RevalidationItem[]) => ({
    checked: items.length,
    nonCompliant: items.filter((i) => !i.compliant).length,
    items,
  });

  return {
    async revalidateJobs(
      actor: Actor,
      opts: { jobId?: string | undefined; allProjects?: boolean | undefined },
    ) {
      const scope = scopeOf(actor, opts.allProjects);
      const jobs = await repos.jobs.listAll({ projectId: scope, jobId: opts.jobId });
      if (opts.jobId && jobs.length === 0)
        throw createError('NOT_FOUND', `Training job '${opts.jobId}' not found`);
      const items: RevalidationItem[] = [];
      for (const job of jobs) {
        const g = await deps.training.gate(job.projectId, job.spec);
        items.push(await record('job', job.id, 'schemaViolations' in g ? g.schemaViolations : g.violations));
      }
      return summarise(items);
    },

    async revalidateEndpoints(
      actor: Actor,
      opts: { endpointId?: string | undefined; allProjects?: boolean | undefined },
    ) {
      const scope = scopeOf(actor, opts.allProjects);
      const endpoints = await repos.endpoints.listAll({ projectId: scope, endpointId: opts.endpointId });
      if (opts.endpointId && endpoints.length === 0)
        throw createError('NOT_FOUND', `Serving endpoint '${opts.endpointId}' not found`);
      const items: RevalidationItem[] = [];
      for (const ep of endpoints) {
        const g = await deps.serving.gate(ep.projectId, ep.request);
        items.push(
          await record('endpoint', ep.id, 'schemaViolations' in g ? g.schemaViolations : g.violations),
        );
      }
      return summarise(items);
    },
  };

  function scopeOf(actor: Actor, allProjects: boolean | undefined): string | undefined {
    if (allProjects) {
      if (!actor.orgAdmin)
        throw createError('FORBIDDEN', 'Only organisation administrators can re-validate every project');
      return undefined;
    }
    return requireRole(actor, 'admin').id;
  }
}

/** Execution and updates call this first: a non-compliant item must not run or change. */
export function assertCompliant(
  item: { id: string; compliance: { compliant: boolean; violations: readonly unknown[] } },
  what: string,
): void {
  if (item.compliance.compliant) return;
  // Stored violations were produced by the rule engine, so they have its shape.
  const violations = item.compliance.violations as RuleViolation[];
  throw createError(
    'NON_COMPLIANT',
    `${what} '${item.id}' is non-compliant with the current rules; fix it first: ${violations.map(fixFor).join('; ')}`,
    {
      violations,
    },
  );
}

export type ComplianceService = ReturnType<typeof createComplianceService>;
