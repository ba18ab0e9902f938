import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The pages and their assets, shipped in the package (src/web): no CDN, no build step. */
const webDir = new URL('../../web/', import.meta.url);

const assets: Record<string, string> = {
  'style.css': 'text/css; charset=utf-8',
  'common.js': 'text/javascript; charset=utf-8',
  'cluster.js': 'text/javascript; charset=utf-8',
  'inspect.js': 'text/javascript; charset=utf-8',
};

/**
 * Static files only: they hold no state, so like /docs they load without the token (a browser
 * cannot attach one to a navigation); the pages then call the API with it. The policy keeps
 * them to this origin (scripts, styles, fetch and WebSocket), and no other site may frame them.
 */
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Paths these routes serve, for the bearer-token hook's list of what is public. */
export function isWebPagePath(path: string): boolean {
  return path === '/' || path === '/inspect' || (path.startsWith('/ui/') && Object.hasOwn(assets, path.slice(4)));
}

function send(reply: FastifyReply, type: string, body: string) {
  return reply.headers({ ...securityHeaders, 'content-type': type }).send(body);
}

export function registerWebPages(app: FastifyInstance): void {
  // Read once: a handful of small files, and a missing one fails the start, not a request.
  const read = (name: string) => readFileSync(new URL(name, webDir), 'utf8');
  const cluster = read('cluster.html');
  const inspect = read('inspect.html');
  const files = Object.fromEntries(Object.keys(assets).map((name) => [name, read(name)]));
  const hide = { schema: { hide: true } };
  app.get('/', hide, async (_request, reply) => send(reply, 'text/html; charset=utf-8', cluster));
  app.get('/inspect', hide, async (_request, reply) => send(reply, 'text/html; charset=utf-8', inspect));
  app.get<{ Params: { file: string } }>('/ui/:file', hide, async (request, reply) => {
    const { file } = request.params;
    const type = Object.hasOwn(assets, file) ? assets[file] : undefined;
    if (type === undefined || files[file] === undefined) return reply.callNotFound();
    return send(reply, type, files[file]);
  });
}
