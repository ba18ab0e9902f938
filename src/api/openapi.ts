import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI document is generated from the route schemas (so it cannot drift from what is
 * validated) and served at /docs (UI) and /docs/json. The UI's assets ship with the package,
 * so it works without internet access.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Constellation API',
        description: 'Deploy docker-compose stacks and watch them converge. Errors are `{error: {code, message, diagnostics}}`.',
        version: '1',
      },
      tags: [
        { name: 'stacks', description: 'Deploy and remove compose stacks' },
        { name: 'services', description: 'Desired vs running replicas per service' },
        { name: 'containers', description: 'Containers on this node' },
        { name: 'system', description: 'Health, metrics' },
      ],
      // The token is always required (the daemon generates one into <dataDir>/api-token).
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
