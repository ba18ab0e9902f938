import type { FastifyInstance } from 'fastify';
import type { NodeAvailability } from '../../cluster/commands.ts';
import type { ApiDeps } from '../api-deps.ts';
import { ApiError } from '../api-error.ts';
import type { CommandSubmitter } from '../command-submitter.ts';
import { commonErrorResponses, errorBodySchema } from '../schemas.ts';

/** One node as `constellation node ls` shows it. */
export interface NodeView {
  readonly id: string;
  readonly hostname: string;
  readonly role: string;
  /** Liveness from the leader's heartbeats: ready, suspect, down. */
  readonly status: string;
  readonly availability: NodeAvailability;
  readonly leader: boolean;
  readonly address: string;
  readonly containers: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly platform?: { readonly os: string; readonly arch: string };
  readonly capacity?: { readonly nanoCpus: number; readonly memoryBytes: number };
}

const nodeSchema = {
  type: 'object',
  required: ['id', 'hostname', 'role', 'status', 'availability', 'leader', 'address', 'containers', 'labels'],
  additionalProperties: true,
  properties: {
    id: { type: 'string' }, hostname: { type: 'string' }, role: { type: 'string', enum: ['manager', 'worker'] },
    status: { type: 'string' }, availability: { type: 'string', enum: ['active', 'pause', 'drain'] }, leader: { type: 'boolean' },
    address: { type: 'string' }, containers: { type: 'integer' }, labels: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Node id' } } } as const;
const labelKey = '^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$';

interface NodeUpdateBody {
  availability?: NodeAvailability;
  labelAdd?: Record<string, string>;
  labelRemove?: string[];
}

function notCluster(): ApiError {
  return new ApiError(409, 'not_a_cluster', 'this daemon runs a single node: start it with cluster.bootstrap (or --bootstrap) to manage nodes');
}

/** GET /v1/nodes[/:id], PATCH /v1/nodes/:id (drain, pause, activate, labels), DELETE /v1/nodes/:id. */
export function registerNodeRoutes(app: FastifyInstance, deps: ApiDeps, submitter: CommandSubmitter): void {
  const find = (id: string): NodeView => {
    if (!deps.cluster) throw notCluster();
    const node = deps.cluster.nodes().find((candidate) => candidate.id === id);
    if (!node) throw new ApiError(404, 'node_not_found', `no node with id "${id}"; \`constellation node ls\` lists them`);
    return node;
  };
  app.get('/v1/cluster/tokens', {
    schema: {
      summary: 'The join tokens for new managers and workers (whoever holds one can join the cluster: keep them secret)',
      tags: ['nodes'],
      response: { 200: { type: 'object', required: ['clusterId', 'manager', 'worker'], properties: { clusterId: { type: 'string' }, manager: { type: 'string' }, worker: { type: 'string' } } }, ...commonErrorResponses },
    },
  }, async () => {
    if (!deps.cluster) throw notCluster();
    try {
      return deps.cluster.tokens();
    } catch (error) {
      throw new ApiError(503, (error as { code?: string }).code ?? 'join_not_ready', (error as Error).message);
    }
  });
  app.get<{ Reply: NodeView[] }>('/v1/nodes', {
    schema: { summary: 'Every node of the cluster', tags: ['nodes'], response: { 200: { type: 'array', items: nodeSchema }, ...commonErrorResponses } },
  }, async () => {
    if (!deps.cluster) throw notCluster();
    return deps.cluster.nodes();
  });
  app.get<{ Params: { id: string }; Reply: NodeView }>('/v1/nodes/:id', {
    schema: { summary: 'One node', tags: ['nodes'], params: idParams, response: { 200: nodeSchema, 404: errorBodySchema, ...commonErrorResponses } },
  }, async (request) => find(request.params.id));
  app.patch<{ Params: { id: string }; Body: NodeUpdateBody; Reply: NodeView }>('/v1/nodes/:id', {
    schema: {
      summary: 'Change a node: availability (drain moves its replicas away, pause takes no new ones) and labels',
      tags: ['nodes'],
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          availability: { type: 'string', enum: ['active', 'pause', 'drain'] },
          labelAdd: { type: 'object', propertyNames: { pattern: labelKey }, additionalProperties: { type: 'string', maxLength: 1024 } },
          labelRemove: { type: 'array', items: { type: 'string', pattern: labelKey } },
        },
      },
      response: { 200: nodeSchema, 404: errorBodySchema, ...commonErrorResponses },
    },
  }, async (request) => {
    const { id } = request.params;
    find(id);
    const body = request.body;
    await submitter.submit({
      type: 'update-node',
      nodeId: id,
      ...(body.availability !== undefined ? { availability: body.availability } : {}),
      ...(body.labelAdd !== undefined ? { labelsAdd: body.labelAdd } : {}),
      ...(body.labelRemove !== undefined ? { labelsRemove: body.labelRemove } : {}),
    });
    return find(id);
  });
  app.delete<{ Params: { id: string } }>('/v1/nodes/:id', {
    schema: { summary: 'Remove a node that is down from the cluster', tags: ['nodes'], params: idParams, response: { 404: errorBodySchema, ...commonErrorResponses } },
  }, async (request, reply) => {
    const node = find(request.params.id);
    if (node.status === 'ready') {
      throw new ApiError(409, 'node_is_up', `node ${node.id} is ${node.status}: drain it and stop its daemon first (\`constellation node update --availability drain ${node.id}\`)`);
    }
    await deps.cluster!.removeNode(node.id);
    return reply.code(204).send();
  });
}
