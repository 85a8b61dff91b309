import type { Command } from 'commander';
import type { AuditVerification, RevalidationReport } from '@llmops/client';
import { renderTable, time, violationLines } from '../output.ts';
import { withPaging, type Run } from '../program.ts';

/** A verdict per item, then what is wrong with each non-compliant one and how to fix it. */
export function renderRevalidation(r: RevalidationReport, noun: string): string {
  const head = `${r.checked} ${noun}(s) checked, ${r.nonCompliant} non-compliant\n`;
  if (r.items.length === 0) return head;
  const table = renderTable(
    ['id', 'verdict'],
    r.items.map((i) => [i.id, i.compliant ? 'compliant' : 'NON-COMPLIANT']),
  );
  const details = r.items
    .filter((i) => !i.compliant)
    .map(
      (i) =>
        `\n${i.kind} ${i.id}:\n${violationLines(i.violations)}${i.fix.map((f) => `  fix: ${f}\n`).join('')}`,
    )
    .join('');
  return `${head}\n${table}${details}`;
}

export function renderAuditVerification(v: AuditVerification): string {
  return v.ok
    ? `Audit chain intact: ${v.checked} row(s) checked\n`
    : `Audit chain BROKEN at seq ${v.firstBrokenSeq}: ${v.reason ?? 'hash mismatch'} (${v.checked} row(s) checked)\n`;
}

interface RevalidateOpts {
  jobId?: string;
  endpointId?: string;
  allProjects?: boolean;
}

function registerValidate(program: Command, run: Run): void {
  const validate = program
    .command('validate')
    .description('Re-check stored jobs or endpoints against the current rules; exit code 1 if any fails');
  validate
    .command('jobs')
    .description('Re-validate training jobs and mark non-compliant ones')
    .option('--job-id <id>', 'only this job')
    .option('--all-projects', 'every project you administer, not just the current one')
    .action(
      run<RevalidateOpts>(async (ctx, o) => {
        const r = await ctx.client.jobs.revalidate({ jobId: o.jobId, allProjects: o.allProjects });
        ctx.emit(r, () => renderRevalidation(r, 'job'));
        return r.nonCompliant > 0 ? 1 : 0;
      }),
    );
  validate
    .command('endpoints')
    .description('Re-validate serving endpoints and mark non-compliant ones')
    .option('--endpoint-id <id>', 'only this endpoint')
    .option('--all-projects', 'every project you administer, not just the current one')
    .action(
      run<RevalidateOpts>(async (ctx, o) => {
        const r = await ctx.client.endpoints.revalidate({
          endpointId: o.endpointId,
          allProjects: o.allProjects,
        });
        ctx.emit(r, () => renderRevalidation(r, 'endpoint'));
        return r.nonCompliant > 0 ? 1 : 0;
      }),
    );
}

function registerAudit(program: Command, run: Run): void {
  const audit = program.command('audit').description('The tamper-evident audit trail of the current project');
  withPaging(
    audit
      .command('list')
      .description('Audit entries, newest first')
      .option('--action <action>', 'only this action, e.g. training.job.submit'),
  ).action(
    run<{ action?: string; limit?: number; offset?: number }>(async (ctx, o) => {
      const page = await ctx.client.audit.list({ action: o.action, limit: o.limit, offset: o.offset });
      ctx.emit(page, () =>
        renderTable(
          ['seq', 'at', 'actor', 'action', 'target', 'result', 'http'],
          page.items.map((a) => [
            a.seq,
            time(a.at),
            a.actor,
            a.action,
            a.targetId ? `${a.targetType} ${a.targetId}` : a.targetType,
            a.result,
            a.statusCode,
          ]),
          '(no audit entries)',
        ),
      );
    }),
  );
  audit
    .command('verify')
    .description('Recompute the hash chain; exit code 1 if it is broken')
    .action(
      run(async (ctx) => {
        const v = await ctx.client.audit.verify();
        ctx.emit(v, () => renderAuditVerification(v));
        return v.ok ? 0 : 1;
      }),
    );
}

export function registerGovernance(program: Command, run: Run): void {
  registerValidate(program, run);
  registerAudit(program, run);
}
