/**
 * JSON schemas shared by several routes. Fastify validates requests and serializes responses
 * with them, and @fastify/swagger turns them into the OpenAPI document served at /docs.
 */
export const diagnosticSchema = {
  type: 'object',
  required: ['severity', 'code', 'message'],
  properties: {
    severity: { type: 'string', enum: ['error', 'warning'] },
    code: { type: 'string' },
    message: { type: 'string' },
    file: { type: 'string' },
    line: { type: 'integer' },
    path: { type: 'string', description: 'Key path inside the file, e.g. services.web.ports[0]' },
    service: { type: 'string' },
  },
} as const;

export const errorBodySchema = {
  type: 'object',
  description: 'Every error: a stable code, a readable message, and diagnostics naming what is wrong where.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'diagnostics'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        diagnostics: { type: 'array', items: diagnosticSchema },
      },
    },
  },
} as const;

/** The error responses every route can produce. */
export const commonErrorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  500: errorBodySchema,
} as const;

export const serviceStatusSchema = {
  type: 'object',
  required: ['id', 'stack', 'service', 'image', 'desiredReplicas', 'running', 'healthy', 'healthcheck', 'converged', 'failed'],
  properties: {
    id: { type: 'string', description: '<stack>_<service>' },
    stack: { type: 'string' },
    service: { type: 'string' },
    image: { type: 'string' },
    desiredReplicas: { type: 'integer' },
    running: { type: 'integer' },
    healthy: { type: 'integer', description: 'running replicas a healthcheck reported healthy (never those without a healthcheck)' },
    removing: { type: 'integer', description: 'replicas on their way out (scaled away or replaced): stopping or being removed' },
    healthcheck: { type: 'boolean', description: 'whether the replicas have a healthcheck; without one only running is known' },
    converged: { type: 'boolean' },
    failed: { type: 'boolean' },
    message: { type: 'string' },
    vpn: {
      type: 'object',
      description: 'a member of a VPN group (network_mode service:X): the link between X and its dependents on the node',
      required: ['group', 'role', 'state', 'detail'],
      properties: {
        group: { type: 'string', description: 'the VPN service X' },
        role: { type: 'string', enum: ['vpn', 'dependent'] },
        state: { type: 'string', enum: ['starting', 'up', 'down', 'recovering'] },
        detail: { type: 'string', description: 'e.g. "up", "recovering (restarting 3 dependents)", "down (gw unhealthy; kill switch stop: 3 dependents stopped)"' },
      },
    },
  },
} as const;

export const containerSchema = {
  type: 'object',
  required: ['name', 'stack', 'service', 'slot', 'image', 'specHash', 'state', 'health', 'restarts'],
  // The agent may report more than these: pass it through rather than hide it.
  additionalProperties: true,
  properties: {
    name: { type: 'string', description: '<stack>_<service>_<slot>' },
    stack: { type: 'string' },
    service: { type: 'string' },
    slot: { type: 'integer' },
    image: { type: 'string' },
    specHash: { type: 'string', description: 'Hash of the service spec this replica runs' },
    state: { type: 'string', description: 'Lifecycle phase: pending, creating, starting, running, backoff, failed, ...' },
    health: { type: 'string', enum: ['none', 'starting', 'healthy', 'unhealthy'] },
    containerId: { type: 'string', description: 'Engine container id, once created' },
    exitCode: { type: 'integer' },
    restarts: { type: 'integer' },
    message: { type: 'string' },
  },
} as const;

export const stackSummarySchema = {
  type: 'object',
  required: ['name', 'version', 'specHash', 'services', 'updatedAt', 'converged'],
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    specHash: { type: 'string' },
    services: { type: 'array', items: { type: 'string' } },
    updatedAt: { type: 'string', format: 'date-time' },
    converged: { type: 'boolean', description: 'Every service of the stack runs its desired replicas.' },
  },
} as const;
