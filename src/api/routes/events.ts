import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventLog } from '../../observe/event-log.ts';
import type { EventFilterSpec } from '../../observe/event-filter.ts';
import { subscribeEvents } from '../../observe/event-subscription.ts';
import { closeCodes } from '../../observe/inspection-hub.ts';
import { ApiError } from '../api-error.ts';
import { commonErrorResponses } from '../schemas.ts';
import { closeSocket, listParam } from './inspect.ts';

interface EventsQuery {
  since?: string;
  type?: string;
  stack?: string;
  service?: string;
  node?: string;
}

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Resume after this index (0: everything still held). Without it, only new events.' },
    type: { type: 'string', description: 'Event types, comma-separated; `replica.*` for a prefix' },
    stack: { type: 'string', description: 'Stacks, comma-separated' },
    service: { type: 'string', description: 'Services, comma-separated' },
    node: { type: 'string', description: 'Nodes, comma-separated' },
  },
} as const;

/** Interval of the SSE comment that keeps idle proxies from closing the stream. */
const sseKeepaliveMs = 15_000;

function filterOf(query: EventsQuery): EventFilterSpec {
  return { types: listParam(query.type), stacks: listParam(query.stack), services: listParam(query.service), nodes: listParam(query.node) };
}

/** `?since=`, else an SSE client's `Last-Event-ID` (what EventSource sends when it reconnects). */
function sinceOf(request: FastifyRequest<{ Querystring: EventsQuery }>): number | undefined {
  const raw = request.query.since ?? request.headers['last-event-id'];
  if (raw === undefined) return undefined;
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new ApiError(400, 'invalid_since', `since must be a non-negative integer index, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * `GET /v1/events`: typed cluster events, each with its index. As a WebSocket, one JSON text
 * frame per event; otherwise Server-Sent Events (`id:` is the index, `event:` the type), so
 * `curl -N` and EventSource work too. Control frames (`stream.hello`, `stream.gap`,
 * `stream.reset`) say where the stream stands.
 */
export function registerEventRoutes(app: FastifyInstance, log: EventLog): void {
  app.route<{ Querystring: EventsQuery }>({
    method: 'GET',
    url: '/v1/events',
    schema: {
      summary: 'Cluster event stream (WebSocket, or Server-Sent Events without an upgrade)',
      tags: ['observe'],
      querystring,
      response: commonErrorResponses,
    },
    handler: async (request, reply) => {
      const since = sinceOf(request);
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write('retry: 2000\n\n');
      const write = (type: string, data: unknown, id?: number) => raw.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      const keepalive = setInterval(() => raw.write(': keepalive\n\n'), sseKeepaliveMs);
      keepalive.unref();
      const unsubscribe = subscribeEvents(log, {
        event: (event) => write(event.type, event, event.index),
        control: (frame) => write(frame.type, frame),
        bufferedBytes: () => raw.writableLength,
        cutOff: (reason) => {
          write('stream.closed', { reason });
          raw.end();
        },
      }, filterOf(request.query), since);
      raw.on('close', () => {
        clearInterval(keepalive);
        unsubscribe();
      });
    },
    wsHandler: (socket, request) => {
      let since: number | undefined;
      try {
        since = sinceOf(request);
      } catch (error) {
        closeSocket(socket, 4400, (error as Error).message);
        return;
      }
      const send = (data: unknown) => socket.send(JSON.stringify(data));
      const unsubscribe = subscribeEvents(log, {
        event: send,
        control: send,
        bufferedBytes: () => socket.bufferedAmount,
        cutOff: (reason) => closeSocket(socket, closeCodes.slowViewer, reason),
      }, filterOf(request.query), since);
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);
    },
  });
}
