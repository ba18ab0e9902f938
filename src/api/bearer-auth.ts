import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './api-error.ts';

/** Paths a load balancer or supervisor must reach without credentials. */
const publicPaths = new Set(['/healthz']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * With a token configured, every request except /healthz must carry `Authorization: Bearer
 * <token>`. Comparing digests in constant time keeps the token's length and prefix from leaking.
 */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (publicPaths.has(path)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1].trim()), expected)) {
      return reply.status(401)
        .header('www-authenticate', 'Bearer realm="constellation"')
        .send(errorBody('unauthorized', match ? 'the bearer token is wrong' : 'missing "Authorization: Bearer <token>" header (api.token is set)'));
    }
  });
}
