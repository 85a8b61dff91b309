import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addMemberSchema,
  createOrganisationSchema,
  createProjectSchema,
  createTokenSchema,
  createdTokenSchema,
  envelope,
  memberSchema,
  organisationSchema,
  projectSchema,
  tokenSchema,
  whoamiSchema,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok, toToken } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const idParam = (name: string) => z.object({ [name]: z.string().min(1).max(200) });

export const identityRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { services }) => {
  const { identity } = services;
  const tags = ['identity'];

  app.get(
    '/whoami',
    {
      schema: {
        tags,
        summary: 'The caller, the current project and role',
        response: { 200: envelope(whoamiSchema) },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const projects = await identity.listProjects(actor);
      return ok('Current identity', {
        userId: actor.userId,
        userName: actor.userName,
        orgAdmin: actor.orgAdmin,
        project:
          actor.project && actor.role
            ? { id: actor.project.id, slug: actor.project.slug, role: actor.role }
            : null,
        projects,
      });
    },
  );

  app.get(
    '/organisations',
    {
      schema: {
        tags,
        summary: 'List organisations',
        response: { 200: envelope(z.array(organisationSchema)) },
      },
    },
    async (req) => ok('Organisations', await identity.listOrganisations(actorOf(req))),
  );
  app.post(
    '/organisations',
    {
      schema: {
        tags,
        summary: 'Create an organisation (organisation administrators)',
        body: createOrganisationSchema,
        response: { 201: envelope(organisationSchema) },
      },
      config: { audit: { action: 'organisation.create', targetType: 'organisation' } },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(ok('Organisation created', await identity.createOrganisation(actorOf(req), req.body))),
  );

  app.get(
    '/projects',
    {
      schema: {
        tags,
        summary: "List the caller's projects",
        response: { 200: envelope(z.array(projectSchema)) },
      },
    },
    async (req) => ok('Projects', await identity.listProjects(actorOf(req))),
  );
  app.post(
    '/projects',
    {
      schema: {
        tags,
        summary: 'Create a project; the caller becomes its admin',
        body: createProjectSchema,
        response: { 201: envelope(projectSchema) },
      },
      config: { audit: { action: 'project.create', targetType: 'project' } },
    },
    async (req, reply) =>
      reply.status(201).send(ok('Project created', await identity.createProject(actorOf(req), req.body))),
  );

  app.get(
    '/members',
    {
      schema: {
        tags,
        summary: 'Members of the current project (X-Project)',
        response: { 200: envelope(z.array(memberSchema)) },
      },
    },
    async (req) => ok('Members', await identity.listMembers(actorOf(req))),
  );
  app.post(
    '/members',
    {
      schema: {
        tags,
        summary: 'Add a member (new or existing user) to the current project',
        body: addMemberSchema,
        response: { 201: envelope(memberSchema) },
      },
      config: { audit: { action: 'member.add', targetType: 'member' } },
    },
    async (req, reply) =>
      reply.status(201).send(ok('Member added', await identity.addMember(actorOf(req), req.body))),
  );
  app.delete(
    '/members/:userId',
    {
      schema: {
        tags,
        summary: 'Remove a member from the current project',
        params: idParam('userId'),
        response: { 200: envelope(z.null()) },
      },
      config: { audit: { action: 'member.remove', targetType: 'member' } },
    },
    async (req) => {
      await identity.removeMember(actorOf(req), req.params.userId as string);
      return ok('Member removed', null);
    },
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags,
        summary: "The caller's API tokens (never the secret)",
        response: { 200: envelope(z.array(tokenSchema)) },
      },
    },
    async (req) => ok('Tokens', (await identity.listTokens(actorOf(req))).map(toToken)),
  );
  app.post(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'Create an API token; the secret is shown once',
        body: createTokenSchema,
        response: { 201: envelope(createdTokenSchema) },
      },
      config: { audit: { action: 'token.create', targetType: 'api_token' } },
    },
    async (req, reply) => {
      const created = await identity.createToken(actorOf(req), req.body);
      return reply.status(201).send(
        ok('Token created; store it now, it is not shown again', {
          ...toToken(created),
          token: created.token,
        }),
      );
    },
  );
  app.delete(
    '/tokens/:tokenId',
    {
      schema: {
        tags,
        summary: 'Revoke one of your tokens',
        params: idParam('tokenId'),
        response: { 200: envelope(z.null()) },
      },
      config: { audit: { action: 'token.revoke', targetType: 'api_token' } },
    },
    async (req) => {
      await identity.revokeToken(actorOf(req), req.params.tokenId as string);
      return ok('Token revoked', null);
    },
  );
};
