import type { FastifyInstance } from 'fastify';
import { historyView, rolloutView, type HistoryEntryView, type RolloutView } from '../../orchestrator/rollout/rollout-views.ts';
import type { ApiDeps } from '../api-deps.ts';
import { ApiError } from '../api-error.ts';
import type { CommandSubmitter } from '../command-submitter.ts';
import { commonErrorResponses, errorBodySchema } from '../schemas.ts';
import { assertValidStackName } from '../stack-name.ts';

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'Stack name' } },
} as const;

/** Shapes are documented in rollout-views.ts; the schema keeps every field it has. */
const openObject = { type: 'object', additionalProperties: true } as const;

export interface RollbackBody {
  service?: string;
  toVersion?: number;
}

export interface RollbackReply {
  stack: string;
  version: number;
  restores: number;
  service?: string;
}

/**
 * Rolling updates (issue 8): the stack's rollout as it stands, its kept versions, and a rollback
 * by hand to the previous stable version (or one named), which rolls out like a deploy does.
 */
export function registerRolloutRoutes(app: FastifyInstance, deps: ApiDeps, submitter: CommandSubmitter): void {
  app.get<{ Params: { name: string }; Reply: RolloutView }>('/v1/stacks/:name/rollout', {
    schema: {
      summary: 'The stack\'s current (or last) rollout: state, and per service batch, replicas updated/healthy/failed, time in the current step, reason',
      tags: ['stacks'],
      params: nameParams,
      response: { 200: openObject, 404: errorBodySchema, ...commonErrorResponses },
    },
  }, async (request) => {
    const view = rolloutView(deps.store.current(), request.params.name, deps.agent.containers(), deps.wallClockMs());
    if (!view) throw new ApiError(404, 'stack_not_found', `no stack named "${request.params.name}"`);
    return view;
  });

  app.get<{ Params: { name: string }; Reply: HistoryEntryView[] }>('/v1/stacks/:name/history', {
    schema: {
      summary: 'The last 5 versions of the stack, newest first, each with whether it became stable (every replica healthy)',
      tags: ['stacks'],
      params: nameParams,
      response: { 200: { type: 'array', items: openObject }, 404: errorBodySchema, ...commonErrorResponses },
    },
  }, async (request) => {
    const view = historyView(deps.store.current(), request.params.name);
    if (!view) throw new ApiError(404, 'stack_not_found', `no stack named "${request.params.name}"`);
    return view;
  });

  app.post<{ Params: { name: string }; Body: RollbackBody | undefined; Reply: RollbackReply }>('/v1/stacks/:name/rollback', {
    schema: {
      summary: 'Roll back to the previous stable version (the whole stack unless a service is named), as a new version that rolls out with rollback_config',
      tags: ['stacks'],
      params: nameParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          service: { type: 'string', description: 'Only this service' },
          toVersion: { type: 'integer', minimum: 1, description: 'This version instead of the previous stable one' },
        },
      },
      response: {
        202: { type: 'object', required: ['stack', 'version', 'restores'], properties: { stack: { type: 'string' }, version: { type: 'integer' }, restores: { type: 'integer' }, service: { type: 'string' } } },
        404: errorBodySchema,
        409: errorBodySchema,
        503: errorBodySchema,
        ...commonErrorResponses,
      },
    },
  }, async (request, reply) => {
    const name = request.params.name;
    assertValidStackName(name, 'name');
    const body = request.body ?? {};
    if (!deps.store.current().stacks[name]) throw new ApiError(404, 'stack_not_found', `no stack named "${name}"`);
    const result = await submitter.submit({
      type: 'rollback-stack', name, atMs: deps.wallClockMs(),
      ...(body.service !== undefined ? { service: body.service } : {}),
      ...(body.toVersion !== undefined ? { toVersion: body.toVersion } : {}),
    });
    const entry = deps.store.current().history[name]?.find((candidate) => candidate.version === result.version);
    request.log.info({ stack: name, version: result.version, restores: entry?.restores, service: body.service }, 'rollback accepted');
    return reply.status(202).send({ stack: name, version: result.version ?? 0, restores: entry?.restores ?? 0, ...(body.service !== undefined ? { service: body.service } : {}) });
  });
}
