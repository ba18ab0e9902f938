import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.ts';

/** Liveness for supervisors and load balancers; the only route that never needs the token. */
export function registerHealthRoute(app: FastifyInstance, deps: ApiDeps): void {
  const startedAt = new Date(deps.wallClockMs()).toISOString();
  app.get('/healthz', {
    schema: {
      summary: 'Liveness: the daemon is up and serving',
      tags: ['system'],
      security: [],
      response: {
        200: {
          type: 'object',
          required: ['status', 'nodeId', 'startedAt'],
          properties: { status: { type: 'string', enum: ['ok'] }, nodeId: { type: 'string' }, startedAt: { type: 'string', format: 'date-time' } },
        },
      },
    },
  }, async () => ({ status: 'ok' as const, nodeId: deps.nodeId, startedAt }));
}
