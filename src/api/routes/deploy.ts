import { basename, isAbsolute } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ComposeDiagnostic } from '../../compose/types.ts';
import { formatDiagnostic } from '../../compose/diagnostics.ts';
import type { LoadComposeResult } from '../../compose/load-compose.ts';
import { stableHash } from '../../cluster/stable-hash.ts';
import type { ApiDeps } from '../api-deps.ts';
import { ApiError } from '../api-error.ts';
import { commonErrorResponses, diagnosticSchema, errorBodySchema } from '../schemas.ts';
import { assertNoHostPortConflicts } from '../port-conflicts.ts';
import { assertValidStackName } from '../stack-name.ts';
import type { CommandSubmitter } from '../command-submitter.ts';

export interface DeployJsonBody {
  stack: string;
  /** Compose file text: YAML, or JSON (which is YAML too). */
  compose: string;
  /** Variables for `${VAR}` interpolation; the daemon's own environment is never used. */
  env?: Record<string, string>;
  /** File name shown in diagnostics, e.g. "docker-compose.yml". */
  file?: string;
  /** Directory on the daemon's machine that relative bind mounts and env_files resolve against. */
  workingDir?: string;
}

export interface DeployQuery {
  stack?: string;
  file?: string;
}

export interface DeployReply {
  stack: string;
  version: number;
  specHash: string;
  services: string[];
  warnings: unknown[];
}

/**
 * Raw compose text may be posted with any of these types. Not text/plain: a web page can send that
 * cross-site without a preflight, so it is refused with 415.
 */
export const yamlContentTypes = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

const jsonBodySchema = {
  type: 'object',
  required: ['stack', 'compose'],
  additionalProperties: false,
  properties: {
    stack: { type: 'string', minLength: 1, maxLength: 63 },
    compose: { type: 'string', minLength: 1, description: 'The compose file, YAML or JSON text' },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Interpolation variables' },
    file: { type: 'string', maxLength: 255, description: 'File name used in diagnostics' },
    workingDir: {
      type: 'string', minLength: 1, maxLength: 4096,
      description: 'Absolute directory on the daemon\'s machine for relative bind mounts, env_file and .env (the CLI sends it when the daemon is local)',
    },
  },
} as const;

const rawBodySchema = { type: 'string', minLength: 1, description: 'The compose file as YAML; name the stack with ?stack=' } as const;

const bodyContent = Object.fromEntries([
  ['application/json', { schema: jsonBodySchema }],
  ...yamlContentTypes.map((type) => [type, { schema: rawBodySchema }]),
]);

const deployReplySchema = {
  type: 'object',
  required: ['stack', 'version', 'specHash', 'services', 'warnings'],
  properties: {
    stack: { type: 'string' },
    version: { type: 'integer', description: 'Bumped on every accepted change of the stack' },
    specHash: { type: 'string' },
    services: { type: 'array', items: { type: 'string' } },
    warnings: { type: 'array', items: diagnosticSchema },
  },
} as const;

function withFileName(result: LoadComposeResult, file: string): LoadComposeResult {
  const name = (d: ComposeDiagnostic): ComposeDiagnostic => (d.file === undefined ? { ...d, file } : d);
  return result.ok
    ? { ...result, warnings: result.warnings.map(name) }
    : { ...result, errors: result.errors.map(name), warnings: result.warnings.map(name) };
}

export function registerDeployRoute(app: FastifyInstance, deps: ApiDeps, submitter: CommandSubmitter): void {
  // The cross-stack port check reads the store, then writes it: two deploys interleaving between
  // those steps could both pass against a state that holds neither, so deploys take turns.
  let turn: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work, work);
    turn = run.catch(() => undefined);
    return run;
  };
  app.post<{ Body: DeployJsonBody | string; Querystring: DeployQuery; Reply: DeployReply }>('/v1/deploy', {
    schema: {
      summary: 'Deploy (create or update) a stack from a compose file',
      description: 'Everything is validated before anything changes: a rejected deploy leaves the cluster untouched. '
        + 'Accepted deploys are durable when the 202 is sent; containers converge asynchronously (watch GET /v1/services).',
      tags: ['stacks'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          stack: { type: 'string', description: 'Stack name, for a raw YAML body' },
          file: { type: 'string', description: 'File name used in diagnostics, for a raw YAML body' },
        },
      },
      body: { content: bodyContent },
      response: { 202: deployReplySchema, ...commonErrorResponses, 409: errorBodySchema, 413: errorBodySchema, 415: errorBodySchema, 503: errorBodySchema },
    },
  }, async (request, reply) => {
    const body = request.body as DeployJsonBody | string | undefined | null;
    // Per-content-type body schemas do not run when there is no body (and no content type) at all.
    if (body === undefined || body === null || body === '') {
      throw new ApiError(400, 'missing_body', 'send the compose file: JSON {stack, compose} or a YAML body with ?stack=NAME');
    }
    const input = typeof body === 'string'
      ? { stack: request.query.stack, compose: body, env: {}, file: request.query.file, workingDir: undefined }
      : { stack: body.stack, compose: body.compose, env: body.env ?? {}, file: body.file, workingDir: body.workingDir };
    if (!input.stack) {
      throw new ApiError(400, 'missing_stack', 'name the stack: "stack" in the JSON body, or ?stack=NAME with a YAML body');
    }
    assertValidStackName(input.stack, 'stack');
    if (input.workingDir !== undefined && !isAbsolute(input.workingDir)) {
      throw new ApiError(400, 'invalid_working_dir', `workingDir must be an absolute path, got "${input.workingDir}"`,
        [{ severity: 'error', code: 'invalid_working_dir', message: 'must be an absolute path', path: 'body.workingDir' }]);
    }
    // No `file` for the loader: it would look for .env in the daemon's own working directory.
    // Files are read only from an explicit workingDir; diagnostics get the client's file name.
    const loaded = withFileName(deps.loadCompose({
      content: input.compose, stackName: input.stack, env: input.env, ...(input.workingDir ? { workingDir: input.workingDir } : {}),
    }), input.file ? basename(input.file) : 'compose.yaml');
    if (!loaded.ok) {
      // The message alone says what and where (file:line key (service)); diagnostics list them all.
      const first = loaded.errors[0] ? formatDiagnostic(loaded.errors[0]) : 'unknown error';
      const count = loaded.errors.length;
      throw new ApiError(400, 'invalid_compose', `compose file rejected (${count} error${count === 1 ? '' : 's'}): ${first}`, [...loaded.errors, ...loaded.warnings]);
    }
    const stack = loaded.stack.name === input.stack ? loaded.stack : { ...loaded.stack, name: input.stack };
    const specHash = stableHash(stack);
    const result = await oneAtATime(() => {
      assertNoHostPortConflicts(stack, deps.store.current().stacks);
      return submitter.submit({ type: 'deploy-stack', stack, specHash, atMs: deps.wallClockMs() });
    });
    request.log.info({ stack: stack.name, version: result.version, specHash }, 'deploy accepted');
    return reply.status(202).send({
      stack: stack.name,
      version: result.version ?? 0,
      specHash,
      services: stack.services.map((service) => service.name),
      warnings: [...loaded.warnings],
    });
  });
}
