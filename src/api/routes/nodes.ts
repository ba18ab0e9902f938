import type { FastifyInstance } from 'fastify';
import type { NodeAvailability, NodeRole } from '../../cluster/commands.ts';
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
  /** Its place in the Raft membership: managers are voters, a manager still catching up (or demoted) a learner, a worker none. */
  readonly raft: 'voter' | 'learner' | 'none';
  readonly address: string;
  readonly containers: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly platform?: { readonly os: string; readonly arch: string };
  readonly capacity?: { readonly nanoCpus: number; readonly memoryBytes: number };
}

const nodeSchema = {
  type: 'object',
  required: ['id', 'hostname', 'role', 'status', 'availability', 'leader', 'raft', 'address', 'containers', 'labels'],
  additionalProperties: true,
  properties: {
    id: { type: 'string' }, hostname: { type: 'string' }, role: { type: 'string', enum: ['manager', 'worker'] },
    status: { type: 'string' }, availability: { type: 'string', enum: ['active', 'pause', 'drain'] }, leader: { type: 'boolean' },
    raft: { type: 'string', enum: ['voter', 'learner', 'none'] },
    address: { type: 'string' }, containers: { type: 'integer' }, labels: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Node id' } } } as const;
const labelKey = '^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$';

interface NodeUpdateBody {
  role?: NodeRole;
  availability?: NodeAvailability;
  labelAdd?: Record<string, string>;
  labelRemove?: string[];
}

/** Errors of the cluster layer carry {code, status}; the API answers with the same code. */
function asApiError(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (typeof code === 'string' && typeof status === 'number' && status >= 400) return new ApiError(status, code, (error as Error).message);
  return error;
}

async function clusterCall<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asApiError(error);
  }
}

const tokensSchema = {
  type: 'object',
  required: ['clusterId', 'manager', 'worker', 'managers'],
  properties: { clusterId: { type: 'string' }, manager: { type: 'string' }, worker: { type: 'string' }, managers: { type: 'array', items: { type: 'string' } } },
} as const;

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
    // A join token makes its holder a member: more than the read-only API token may have.
    config: { adminOnly: true },
    schema: {
      summary: 'The join tokens for new managers and workers (whoever holds one can join the cluster: keep them secret)',
      tags: ['nodes'],
      response: { 200: tokensSchema, ...commonErrorResponses },
    },
  }, async () => {
    if (!deps.cluster) throw notCluster();
    const cluster = deps.cluster;
    return clusterCall(() => cluster.tokens());
  });
  app.post<{ Body: { role: 'manager' | 'worker' } }>('/v1/cluster/tokens/rotate', {
    schema: {
      summary: 'Replace the join token of one role; the old token stops working at once (nodes that joined stay)',
      tags: ['nodes'],
      body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: { type: 'string', enum: ['manager', 'worker'] } } },
      response: { 200: tokensSchema, ...commonErrorResponses },
    },
  }, async (request) => {
    if (!deps.cluster) throw notCluster();
    const cluster = deps.cluster;
    return clusterCall(() => cluster.rotateToken(request.body.role));
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
      summary: 'Change a node: role (promote to manager, demote to worker), availability (drain moves its replicas away, pause takes no new ones) and labels',
      tags: ['nodes'],
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          role: { type: 'string', enum: ['manager', 'worker'] },
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
    // The role first: its checks (quorum, manager count) refuse before anything else is written.
    if (body.role !== undefined) {
      const cluster = deps.cluster!;
      const role = body.role;
      await clusterCall(() => cluster.setRole(id, role));
    }
    if (body.availability === undefined && body.labelAdd === undefined && body.labelRemove === undefined) return find(id);
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
    const cluster = deps.cluster!;
    await clusterCall(() => cluster.removeNode(node.id));
    return reply.code(204).send();
  });
}
