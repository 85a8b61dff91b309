import { Option, type Command } from 'commander';
import { ROLES, type Role, type Whoami } from '@llmops/client';
import { UsageError } from '../errors.ts';
import { renderFields, renderTable, time } from '../output.ts';
import { configPath, DEFAULT_PROFILE, saveProfile } from '../profile.ts';
import { positiveInt, type Run } from '../program.ts';

export function describeIdentity(w: Whoami): string {
  const who = `${w.userName}${w.orgAdmin ? ' (organisation admin)' : ''}`;
  const project = w.project ? `project ${w.project.slug} (${w.project.role})` : 'no current project';
  return `${who}, ${project}`;
}

function registerSession(program: Command, run: Run): void {
  program
    .command('login')
    .description(
      'Check the URL and token with the platform, then save them as a profile (uses --url, --token, --project, --profile)',
    )
    .action(
      run(
        async (ctx) => {
          const { url, token, project, tokenSource } = ctx.settings;
          if (!token) throw new UsageError(`no token for ${url}: pass --token <token> (or set LLMOPS_TOKEN)`);
          const me = await ctx.client.whoami();
          const name = ctx.flags.profile ?? (ctx.io.env.LLMOPS_PROFILE || DEFAULT_PROFILE);
          const path = configPath(ctx.io.env);
          await saveProfile(path, name, { url, token, project });
          ctx.emit(me, () => {
            const from = tokenSource === 'admin-token' ? ' with the local admin token' : '';
            return `Logged in to ${url}${from} as ${describeIdentity(me)}\nProfile '${name}' saved to ${path}\n`;
          });
        },
        { newProfile: true },
      ),
    );
  program
    .command('whoami')
    .description('Who the token belongs to, the current project and your role')
    .action(
      run(async (ctx) => {
        const me = await ctx.client.whoami();
        ctx.emit(
          me,
          () =>
            `${describeIdentity(me)}\nplatform: ${ctx.settings.url}\nprojects: ${me.projects.map((p) => `${p.slug}${p.role ? ` (${p.role})` : ''}`).join(', ') || '-'}\n`,
        );
      }),
    );
}

function registerProjects(program: Command, run: Run): void {
  const projects = program.command('projects').description('Projects you belong to');
  projects
    .command('list')
    .description('List your projects')
    .action(
      run(async (ctx) => {
        const list = await ctx.client.projects.list();
        ctx.emit(list, () =>
          renderTable(
            ['slug', 'name', 'role', 'id', 'created'],
            list.map((p) => [p.slug, p.name, p.role, p.id, time(p.createdAt)]),
            '(no projects)',
          ),
        );
      }),
    );
  projects
    .command('create')
    .description('Create a project; you become its admin')
    .argument('<slug>', 'lowercase letters, digits and "-"')
    .requiredOption('--name <name>', 'display name')
    .option('--organisation <slug>', 'organisation (default: yours)')
    .action(
      run<{ name: string; organisation?: string }>(async (ctx, o, [slug]) => {
        const p = await ctx.client.projects.create({
          slug: slug!,
          name: o.name,
          organisation: o.organisation,
        });
        ctx.emit(
          p,
          () =>
            `Project created: ${p.slug}\n${renderFields([
              ['id', p.id],
              ['slug', p.slug],
              ['name', p.name],
              ['role', p.role],
            ])}`,
        );
      }),
    );
}

function registerMembers(program: Command, run: Run): void {
  const members = program.command('members').description('Members of the current project');
  members
    .command('list')
    .description('List members and their roles')
    .action(
      run(async (ctx) => {
        const list = await ctx.client.members.list();
        ctx.emit(list, () =>
          renderTable(
            ['user', 'user id', 'role', 'since'],
            list.map((m) => [m.userName, m.userId, m.role, time(m.createdAt)]),
            '(no members)',
          ),
        );
      }),
    );
  members
    .command('add')
    .description('Add an existing user (--user-id) or a new one (--name) to the project')
    .addOption(new Option('--role <role>', 'role in the project').choices(ROLES).makeOptionMandatory())
    .option('--user-id <id>', 'an existing user')
    .option('--name <name>', 'creates a new user with this name')
    .option('--email <email>', 'e-mail of the new user')
    .action(
      run<{ role: Role; userId?: string; name?: string; email?: string }>(async (ctx, o) => {
        if (!o.userId === !o.name)
          throw new UsageError('give exactly one of --user-id (existing user) or --name (new user)');
        const m = await ctx.client.members.add({
          role: o.role,
          userId: o.userId,
          name: o.name,
          email: o.email,
        });
        ctx.emit(m, () => `Member added: ${m.userName} (${m.userId}) as ${m.role}\n`);
      }),
    );
  members
    .command('remove')
    .description('Remove a member from the project')
    .argument('<user-id>', 'user id')
    .action(
      run(async (ctx, _o, [userId]) => {
        await ctx.client.members.remove(userId!);
        ctx.emit(null, () => `Member removed: ${userId}\n`);
      }),
    );
}

function registerTokens(program: Command, run: Run): void {
  const tokens = program.command('tokens').description('Your API tokens');
  tokens
    .command('list')
    .description('List your tokens (never their secrets)')
    .action(
      run(async (ctx) => {
        const list = await ctx.client.tokens.list();
        ctx.emit(list, () =>
          renderTable(
            ['id', 'name', 'prefix', 'last used', 'expires', 'revoked'],
            list.map((t) => [
              t.id,
              t.name,
              t.prefix,
              time(t.lastUsedAt),
              time(t.expiresAt),
              time(t.revokedAt),
            ]),
            '(no tokens)',
          ),
        );
      }),
    );
  tokens
    .command('create')
    .description(
      'Create a token; its secret is shown once. Its default project is the current one (--project)',
    )
    .argument('<name>', 'what the token is for, e.g. ci')
    .option('--user-id <id>', 'issue it for another user (project admins)')
    .option('--expires-in-days <n>', 'expiry', positiveInt)
    .action(
      run<{ userId?: string; expiresInDays?: number }>(async (ctx, o, [name]) => {
        const t = await ctx.client.tokens.create({
          name: name!,
          userId: o.userId,
          expiresInDays: o.expiresInDays,
        });
        ctx.emit(
          t,
          () =>
            `Token created: ${t.id} (${t.name}). Store the secret now, it is not shown again:\n${t.token}\n`,
        );
      }),
    );
  tokens
    .command('revoke')
    .description('Revoke one of your tokens')
    .argument('<id>', 'token id')
    .action(
      run(async (ctx, _o, [id]) => {
        await ctx.client.tokens.revoke(id!);
        ctx.emit(null, () => `Token revoked: ${id}\n`);
      }),
    );
}

export function registerIdentity(program: Command, run: Run): void {
  registerSession(program, run);
  registerProjects(program, run);
  registerMembers(program, run);
  registerTokens(program, run);
}
