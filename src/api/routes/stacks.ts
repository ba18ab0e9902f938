import type { FastifyInstance } from 'fastify';
import type { StackRecord } from '../../cluster/state.ts';
import type { ApiDeps } from '../api-deps.ts';
import { ApiError } from '../api-error.ts';
import type { CommandSubmitter } from '../command-submitter.ts';
import { commonErrorResponses, errorBodySchema, serviceStatusSchema, stackSummarySchema } from '../schemas.ts';
import { serviceRows, type ServiceRow } from '../service-rows.ts';
import { assertValidStackName } from '../stack-name.ts';
import { rolloutUnderway } from '../../orchestrator/rollout/rollout-views.ts';

export interface StackSummary {
  name: string;
  version: number;
  specHash: string;
  services: string[];
  updatedAt: string;
  converged: boolean;
}

function summarize(record: StackRecord, rows: readonly ServiceRow[], rolling: boolean): StackSummary {
  const own = rows.filter((row) => row.stack === record.name);
  return {
    name: record.name,
    version: record.version,
    specHash: record.specHash,
    services: record.spec.services.map((service) => service.name),
    updatedAt: new Date(record.updatedAtMs).toISOString(),
    // A rollout under way (or paused) is not converged, though every slot runs what it should now.
    converged: !rolling && own.length === record.spec.services.length && own.every((row) => row.converged),
  };
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'Stack name' } },
} as const;

export function registerStackRoutes(app: FastifyInstance, deps: ApiDeps, submitter: CommandSubmitter): void {
  app.get<{ Reply: StackSummary[] }>('/v1/stacks', {
    schema: {
      summary: 'List deployed stacks',
      tags: ['stacks'],
      response: { 200: { type: 'array', items: stackSummarySchema }, ...commonErrorResponses },
    },
  }, async () => {
    const rows = serviceRows(deps);
    return Object.values(deps.store.current().stacks)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((record) => summarize(record, rows, rolloutUnderway(deps.store.current(), record.name)));
  });

  app.get<{ Params: { name: string }; Reply: StackSummary & { serviceStatus: ServiceRow[] } }>('/v1/stacks/:name', {
    schema: {
      summary: 'One stack with the status of each of its services',
      tags: ['stacks'],
      params: nameParams,
      response: {
        200: {
          type: 'object',
          required: [...stackSummarySchema.required, 'serviceStatus'],
          properties: { ...stackSummarySchema.properties, serviceStatus: { type: 'array', items: serviceStatusSchema } },
        },
        404: errorBodySchema,
        ...commonErrorResponses,
      },
    },
  }, async (request) => {
    const record = deps.store.current().stacks[request.params.name];
    if (!record) throw new ApiError(404, 'stack_not_found', `no stack named "${request.params.name}"`);
    const rows = serviceRows(deps, record.name);
    return { ...summarize(record, rows, rolloutUnderway(deps.store.current(), record.name)), serviceStatus: rows };
  });

  app.delete<{ Params: { name: string }; Reply: { stack: string; removed: boolean } }>('/v1/stacks/:name', {
    schema: {
      summary: 'Remove a stack: its containers are stopped and removed',
      tags: ['stacks'],
      params: nameParams,
      response: {
        202: { type: 'object', required: ['stack', 'removed'], properties: { stack: { type: 'string' }, removed: { type: 'boolean' } } },
        404: errorBodySchema,
        409: errorBodySchema,
        503: errorBodySchema,
        ...commonErrorResponses,
      },
    },
  }, async (request, reply) => {
    const name = request.params.name;
    assertValidStackName(name, 'name');
    if (!deps.store.current().stacks[name]) throw new ApiError(404, 'stack_not_found', `no stack named "${name}"`);
    await submitter.submit({ type: 'remove-stack', name, atMs: deps.wallClockMs() });
    request.log.info({ stack: name }, 'stack removal accepted');
    return reply.status(202).send({ stack: name, removed: true });
  });
}
