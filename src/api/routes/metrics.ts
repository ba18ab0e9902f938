import type { FastifyInstance } from 'fastify';
import type { DaemonMetrics } from '../../metrics/daemon-metrics.ts';

/** Streams last as long as their reader stays: their "latency" would drown the API's in the histogram. */
const streamingRoutes = new Set(['/v1/events', '/v1/inspect']);

/** Prometheus exposition of the daemon's own registry, plus a per-request counter and latency histogram. */
export function registerMetricsRoute(app: FastifyInstance, metrics: DaemonMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    if (!streamingRoutes.has(route)) metrics.httpRequestDurationSeconds.observe(labels, reply.elapsedTime / 1000);
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
