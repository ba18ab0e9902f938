import type { FastifyInstance } from 'fastify';
import type { ServiceSpec } from '../../compose/types.ts';
import type { ApiDeps } from '../api-deps.ts';
import { ApiError } from '../api-error.ts';
import { commonErrorResponses, errorBodySchema, serviceStatusSchema } from '../schemas.ts';
import { serviceRows, type ServiceRow } from '../service-rows.ts';

/** What an environment value reads as unless the client asks for values (?reveal=env). */
export const redactedValue = '<redacted>';

/**
 * Stacks carry passwords and keys in their environment; a status page, a log of API answers or a
 * screen share must not show them by default. The names stay, so what is set can be checked.
 * There is one token and it is as strong as root on the node, so every client may reveal; a
 * scope that may not is a later addition (the query is where it will be checked).
 */
function redactEnvironment(spec: ServiceSpec): ServiceSpec {
  return { ...spec, environment: Object.fromEntries(Object.keys(spec.environment).map((name) => [name, redactedValue])) };
}

export function registerServiceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: { stack?: string }; Reply: ServiceRow[] }>('/v1/services', {
    schema: {
      summary: 'Every service: desired replicas and what really runs',
      tags: ['services'],
      querystring: { type: 'object', additionalProperties: false, properties: { stack: { type: 'string', description: 'Only this stack' } } },
      response: { 200: { type: 'array', items: serviceStatusSchema }, ...commonErrorResponses },
    },
  }, async (request) => serviceRows(deps, request.query.stack));

  app.get<{ Params: { name: string }; Querystring: { reveal?: 'env' }; Reply: ServiceRow & { spec?: ServiceSpec } }>('/v1/services/:name', {
    schema: {
      summary: 'One service by id (<stack>_<service>): status and normalized spec',
      description: `Environment values in the spec are replaced by "${redactedValue}" (the names stay) unless asked for with ?reveal=env.`,
      tags: ['services'],
      params: { type: 'object', required: ['name'], properties: { name: { type: 'string', description: '<stack>_<service>' } } },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { reveal: { type: 'string', enum: ['env'], description: 'env: return environment values instead of redacting them' } },
      },
      response: {
        200: {
          type: 'object',
          required: serviceStatusSchema.required,
          properties: {
            ...serviceStatusSchema.properties,
            spec: { type: 'object', additionalProperties: true, description: 'The normalized service spec (absent while the service is being removed)' },
          },
        },
        404: errorBodySchema,
        ...commonErrorResponses,
      },
    },
  }, async (request) => {
    const id = request.params.name;
    const separator = id.indexOf('_');
    if (separator <= 0) {
      throw new ApiError(404, 'service_not_found', `no service "${id}": service ids are <stack>_<service>, e.g. web_frontend`);
    }
    const stack = id.slice(0, separator);
    const row = serviceRows(deps, stack).find((candidate) => candidate.id === id);
    if (!row) throw new ApiError(404, 'service_not_found', `no service "${id}"`);
    const spec = deps.store.current().stacks[stack]?.spec.services.find((service) => service.name === row.service);
    if (!spec) return row;
    // Environment values are where secrets live: a viewer's token does not reveal them.
    if (request.query.reveal === 'env' && request.tokenScope === 'read-only') {
      throw new ApiError(403, 'read_only_token', `the token is read-only: ?reveal=env shows ${id}'s environment values; use the admin token (<node.dataDir>/api-token or api.token)`);
    }
    return { ...row, spec: request.query.reveal === 'env' ? spec : redactEnvironment(spec) };
  });
}
