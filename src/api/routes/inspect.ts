import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { InspectionHub } from '../../observe/inspection-hub.ts';
import { errorBody } from '../api-error.ts';
import { commonErrorResponses } from '../schemas.ts';

/** After a close frame, how long a viewer gets to read what is queued before its socket is destroyed. */
const closeGraceMs = 10_000;

/** Comma-separated query values: `?kind=container,raftRole`. */
export function listParam(value: string | undefined): string[] {
  return (value ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '');
}

/** Ends a WebSocket politely (close frame behind what is queued), then for sure. */
export function closeSocket(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === socket.CLOSED) return;
  // A close reason is at most 123 bytes.
  socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
  setTimeout(() => socket.terminate(), closeGraceMs).unref();
}

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', description: 'Only actors of these kinds (comma-separated), e.g. `container` or `raftRole`, with their descendants' },
    id: { type: 'string', description: 'Only actors whose id starts with one of these prefixes (comma-separated), e.g. `container.web_` for stack web' },
  },
} as const;

/**
 * `GET /v1/inspect` (WebSocket): every actor of the daemon in @statelyai/inspect's wire format,
 * live actors replayed first. The hub decides what is sent; this route adapts the socket.
 */
export function registerInspectRoute(app: FastifyInstance, hub: InspectionHub): void {
  app.route<{ Querystring: { kind?: string; id?: string } }>({
    method: 'GET',
    url: '/v1/inspect',
    schema: {
      summary: 'Inspection stream (WebSocket): every actor, event and snapshot in @statelyai/inspect format',
      tags: ['observe'],
      querystring,
      response: { 426: commonErrorResponses[400], ...commonErrorResponses },
    },
    handler: async (_request, reply) => reply.status(426).header('upgrade', 'websocket')
      .send(errorBody('upgrade_required', 'GET /v1/inspect is a WebSocket: connect with a WebSocket client (Upgrade: websocket)')),
    wsHandler: (socket, request) => {
      // The TCP socket under the WebSocket (the handshake's own): corked while the hub writes a batch.
      const tcp = request.socket;
      const disconnect = hub.connect({
        send: (frame) => socket.send(frame, { binary: false }),
        cork: () => tcp.cork(),
        uncork: () => tcp.uncork(),
        bufferedBytes: () => socket.bufferedAmount,
        cutOff: (code, reason) => closeSocket(socket, code, reason),
      }, { kinds: listParam(request.query.kind), idPrefixes: listParam(request.query.id) });
      socket.on('close', disconnect);
      socket.on('error', disconnect);
      // Viewers only listen; anything they send is ignored.
    },
  });
}
