import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiTokenScope } from '../adapters/api-token-file.ts';
import { errorBody } from './api-error.ts';
import { isWebsocketUpgrade, tokenFromHandshake } from './websocket.ts';
import { isWebPagePath } from './routes/web-pages.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A read that the read-only token may not make: it hands out what lets its holder do more
     * than read (the cluster's join tokens).
     */
    adminOnly?: boolean;
  }
  interface FastifyRequest {
    /** Which token the request presented; 'admin' on public routes (nothing is checked there). */
    tokenScope: ApiTokenScope;
  }
}

export interface ApiTokens {
  /** Whoever holds it may do everything the API offers (as root on the node). */
  readonly admin: string;
  /** Optional: may read (API, events, inspector, metrics, pages) and nothing else. */
  readonly readOnly?: string;
}

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
 * Deny by default: the read-only token may only GET (or HEAD) — every route that changes something
 * uses another method, also ones added later (rollback, scale…) — and not the few reads marked
 * adminOnly. WebSocket handshakes are GETs; the event and inspection sockets take no commands.
 */
export function readOnlyRefusal(request: Pick<FastifyRequest, 'method' | 'url' | 'routeOptions'>): string | undefined {
  const path = request.url.split('?')[0] ?? '';
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return `the token is read-only: ${request.method} ${path} changes the cluster; use the admin token (<node.dataDir>/api-token or api.token)`;
  }
  if (request.routeOptions.config.adminOnly) {
    return `the token is read-only: ${path} hands out credentials; use the admin token (<node.dataDir>/api-token or api.token)`;
  }
  return undefined;
}

/**
 * Every request except the public ones must carry `Authorization: Bearer <token>` — also on
 * loopback: any local process, and any web page a local browser shows, can reach a loopback port.
 * Comparing digests in constant time keeps the tokens' length and prefix from leaking; both are
 * always compared, so the time does not tell which one matched either.
 */
export function installBearerAuth(app: FastifyInstance, tokens: ApiTokens): void {
  if (tokens.admin === '') throw new Error('the API needs a token: the daemon passes api.token or the generated token file');
  if (tokens.readOnly === '' || tokens.readOnly === tokens.admin) throw new Error('the read-only token must be set and differ from the admin token');
  const admin = digest(tokens.admin);
  const readOnly = tokens.readOnly === undefined ? undefined : digest(tokens.readOnly);
  app.decorateRequest('tokenScope', 'admin');
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request.method, request.url.split('?')[0] ?? '')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // WebSocket handshakes may carry the token where browsers and URL-only clients can put it.
    const presented = match?.[1]?.trim() ?? (isWebsocketUpgrade(request.headers) ? tokenFromHandshake(request.headers) : undefined);
    const given = presented ? digest(presented) : undefined;
    const isAdmin = given !== undefined && timingSafeEqual(given, admin);
    const isReadOnly = given !== undefined && readOnly !== undefined && timingSafeEqual(given, readOnly);
    if (!isAdmin && !isReadOnly) {
      return reply.status(401)
        .header('www-authenticate', 'Bearer realm="constellation"')
        .send(errorBody('unauthorized', presented ? 'the bearer token is wrong' : 'missing "Authorization: Bearer <token>" header'));
    }
    request.tokenScope = isAdmin ? 'admin' : 'read-only';
    if (isAdmin) return;
    const refusal = readOnlyRefusal(request);
    if (refusal) {
      request.log.info({ method: request.method, url: request.url.split('?')[0], remote: request.ip }, 'request refused: read-only token');
      return reply.status(403).send(errorBody('read_only_token', refusal));
    }
  });
}
