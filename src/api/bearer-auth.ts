import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './api-error.ts';
import { isWebsocketUpgrade, tokenFromHandshake } from './websocket.ts';
import { isWebPagePath } from './routes/web-pages.ts';

/**
 * What is reachable without the token: liveness, for supervisors and load balancers, and the API's
 * own documentation (static pages and the OpenAPI document: no state, no side effect), so the
 * /docs page opens in a browser — which cannot attach a bearer token to a navigation — and then
 * takes the token through its "Authorize" button. The same holds for the web view (`/`), the actor
 * viewer (`/inspect`) and their assets (`/ui/*`).
 */
function isPublic(method: string, path: string): boolean {
  if (path === '/healthz') return true;
  // The web view and actor viewer are static pages that ask for the token and send it themselves.
  return (method === 'GET' || method === 'HEAD') && (path === '/docs' || path.startsWith('/docs/') || isWebPagePath(path));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Every request except the public ones must carry `Authorization: Bearer <token>` — also on
 * loopback: any local process, and any web page a local browser shows, can reach a loopback port.
 * Comparing digests in constant time keeps the token's length and prefix from leaking.
 */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  if (token === '') throw new Error('the API needs a token: the daemon passes api.token or the generated token file');
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request.method, request.url.split('?')[0] ?? '')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // WebSocket handshakes may carry the token where browsers and URL-only clients can put it.
    const presented = match?.[1]?.trim() ?? (isWebsocketUpgrade(request.headers) ? tokenFromHandshake(request.headers) : undefined);
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      return reply.status(401)
        .header('www-authenticate', 'Bearer realm="constellation"')
        .send(errorBody('unauthorized', presented ? 'the bearer token is wrong' : 'missing "Authorization: Bearer <token>" header'));
    }
  });
}
