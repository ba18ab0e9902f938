import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../config/loopback.ts';
import { errorBody } from './api-error.ts';

/** Where the API is bound, as configured (api.host, api.port). */
export interface ApiBind {
  readonly host: string;
  readonly port: number;
}

/** Splits a Host header into name and port; undefined when it is not `name[:port]` / `[v6][:port]`. */
export function parseHostHeader(value: string): { name: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return undefined;
  const port = match[2] === undefined ? 80 : Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const name = match[1]!.toLowerCase();
  return { name: name.startsWith('[') ? name.slice(1, -1) : name, port };
}

function bare(host: string): string {
  return (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
}

/** Names that mean "this machine" and cannot be pointed elsewhere by whoever controls some DNS. */
function isLoopbackName(name: string): boolean {
  if (name === 'localhost') return true;
  return isIP(name) !== 0 && isLoopbackHost(name);
}

/**
 * Refuses, before any body is read or any route runs, what only a web browser tricked by some
 * page would send:
 *
 * - **Cross-site requests.** An `Origin` that is not the API's own (`http://<Host>`), or
 *   `Sec-Fetch-Site: cross-site` / `same-site`, gets 403 `cross_site_request`. A page's
 *   "simple" request (form post, text/plain fetch) and a preflight (OPTIONS) alike: no CORS
 *   header is ever sent, so a browser never lets a page read an answer either. Clients that are
 *   not browsers (the CLI, curl) send neither header.
 * - **DNS rebinding.** When the API is bound to loopback, the `Host` header must name loopback
 *   (`localhost`, `127.x.y.z`, `[::1]`, or api.host itself) with the port the request arrived on;
 *   anything else — `evil.example:7420` resolved to 127.0.0.1 — gets 421 `host_not_allowed`.
 *   With a non-loopback bind (which requires an explicit api.token) clients reach the node under
 *   names we cannot know, so Host is not checked there: the token is the boundary.
 */
export function installCrossSiteGuard(app: FastifyInstance, bind: ApiBind): void {
  const checkHost = isLoopbackHost(bind.host);
  const bindName = bare(bind.host);
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (checkHost) {
      const problem = hostProblem(request, host, bindName, bind.port);
      if (problem) {
        request.log.warn({ host, remote: request.ip, url: request.url }, 'request refused: Host is not this API (DNS rebinding?)');
        return reply.status(421).send(errorBody('host_not_allowed', problem));
      }
    }
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      request.log.warn({ site, remote: request.ip, url: request.url }, 'request refused: sent by a browser on behalf of another site');
      return reply.status(403).send(errorBody('cross_site_request', `refused: a browser sent this request on behalf of another site (Sec-Fetch-Site: ${site}); the API takes requests from the CLI, scripts, or its own /docs page`));
    }
    const origin = request.headers.origin;
    if (origin !== undefined && (host === undefined || origin.toLowerCase() !== `http://${host.toLowerCase()}`)) {
      request.log.warn({ origin, remote: request.ip, url: request.url }, 'request refused: cross-origin');
      return reply.status(403).send(errorBody('cross_site_request', `refused: Origin ${JSON.stringify(origin)} is not this API's own; the API does not serve other web origins (no CORS)`));
    }
  });
}

function hostProblem(request: FastifyRequest, host: string | undefined, bindName: string, bindPort: number): string | undefined {
  const bound = `the API is bound to loopback and answers only to localhost, 127.0.0.1 or [::1]${bindName && !isLoopbackName(bindName) ? ` or ${bindName}` : ''}`;
  if (host === undefined) return `missing Host header: ${bound}`;
  const parsed = parseHostHeader(host);
  if (!parsed || !(isLoopbackName(parsed.name) || parsed.name === bindName)) return `Host ${JSON.stringify(host)} is not this API: ${bound}`;
  // The port the connection really arrived on; injected test requests have no socket port.
  const port = request.socket.localPort ?? bindPort;
  if (parsed.port !== port) return `Host ${JSON.stringify(host)} names port ${parsed.port}, but this API listens on ${port}`;
  return undefined;
}
