import type { FastifyInstance } from 'fastify';
import type { ApiDeps, ContainerInfo } from '../api-deps.ts';
import { commonErrorResponses, containerSchema } from '../schemas.ts';

export function registerContainerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: { stack?: string; service?: string }; Reply: ContainerInfo[] }>('/v1/containers', {
    schema: {
      summary: 'Containers this node manages, as the engine reports them',
      tags: ['containers'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { stack: { type: 'string' }, service: { type: 'string' } },
      },
      response: { 200: { type: 'array', items: containerSchema }, ...commonErrorResponses },
    },
  }, async (request) => {
    const { stack, service } = request.query;
    return deps.agent.containers()
      .filter((container) => (stack === undefined || container.stack === stack) && (service === undefined || container.service === service))
      .slice()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });
}
