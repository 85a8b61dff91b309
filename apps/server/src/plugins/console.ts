import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from '../modules/types.ts';

/** Hashed file names never change content: browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Serves the built web console at `/`: its files as they are, and index.html for any other page path, so a
 * deep link such as /catalog/models/<id> opens the console, which routes it in the browser. Paths under
 * the API prefix are never answered here: an unknown API route keeps its JSON 404. While the folder holds
 * no build yet (`llmops up` builds it next to the starting platform), page paths lead to the API docs.
 */
export async function consolePlugin(app: FastifyInstance, opts: { dir: string }) {
  const root = normalize(opts.dir);
  await app.register(fastifyStatic, { root, serve: false });

  app.get('/*', { config: { auth: false }, schema: { hide: true } }, async (request, reply) => {
    const path = (request.params as { '*': string })['*'] ?? '';
    if (`/${path}` === API_PREFIX || `/${path}`.startsWith(`${API_PREFIX}/`)) return reply.callNotFound();
    const file = normalize(join(root, path));
    if (path && file.startsWith(root + sep) && (await isFile(file))) {
      const cache = path.startsWith('assets/') ? IMMUTABLE : 'no-cache';
      return reply.header('cache-control', cache).sendFile(path, { cacheControl: false });
    }
    // A missing asset is a 404; a page path is the console's to route.
    if (extname(path) && !path.endsWith('.html')) return reply.callNotFound();
    if (!(await isFile(join(root, 'index.html')))) return reply.redirect(`${API_PREFIX}/docs`);
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
