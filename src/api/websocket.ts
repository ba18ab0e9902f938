import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * WebSockets ride on the API's own routes (through @fastify/websocket), so an upgrade request
 * passes the same onRequest hooks as any other: the cross-site guard (a browser always sends
 * Origin on a WebSocket handshake) and the bearer token.
 *
 * A browser cannot put a header on `new WebSocket(url)`, so the token may also come as a
 * subprotocol, `constellation.bearer.<base64url(token)>` offered together with
 * `constellation.v1`, which the server selects (Kubernetes carries its bearer tokens the same
 * way). Clients that take only a URL (e.g. @statelyai/inspect's receiver) can put the token in it
 * as the password, `ws://:TOKEN@host:port/...`, which becomes Basic authorization. Both are
 * accepted on WebSocket handshakes only: never on plain requests, where a browser could replay
 * remembered Basic credentials on its own.
 */
export const websocketProtocol = 'constellation.v1';
const bearerProtocolPrefix = 'constellation.bearer.';

/** Our frames are server → client; the client never needs to send more than a small command. */
const maxClientMessageBytes = 64 * 1024;

export async function installWebsockets(app: FastifyInstance): Promise<void> {
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: maxClientMessageBytes,
      handleProtocols: (protocols: Set<string>) => (protocols.has(websocketProtocol) ? websocketProtocol : false),
    },
  });
}

export function isWebsocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return (headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** The token a WebSocket handshake carries outside the Authorization: Bearer header, if any. */
export function tokenFromHandshake(headers: IncomingHttpHeaders): string | undefined {
  const offered = (headers['sec-websocket-protocol'] ?? '').split(',').map((value) => value.trim());
  const bearer = offered.find((value) => value.startsWith(bearerProtocolPrefix));
  if (bearer) return Buffer.from(bearer.slice(bearerProtocolPrefix.length), 'base64url').toString('utf8');
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) return decodePassword(decoded.slice(colon + 1));
  }
  return undefined;
}

/** `ws` sends a URL's password as it stands in the URL: percent-encoded. */
function decodePassword(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
