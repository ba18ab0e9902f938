import type { FastifyInstance } from 'fastify';
import type { DaemonMetrics } from '../../metrics/daemon-metrics.ts';

/** Prometheus exposition of the daemon's own registry, plus a per-request counter. */
export function registerMetricsRoute(app: FastifyInstance, metrics: DaemonMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
  });
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['system'],
      produces: ['text/plain'],
      response: { 200: { type: 'string' } },
    },
  }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
