import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.ts';
import { ApiError } from './api-error.ts';
import { installBearerAuth } from './bearer-auth.ts';
import { CommandSubmitter } from './command-submitter.ts';
import { installCrossSiteGuard } from './cross-site-guard.ts';
import { installErrorHandlers } from './error-handler.ts';
import { registerOpenApi } from './openapi.ts';
import { registerContainerRoutes } from './routes/containers.ts';
import { registerDeployRoute, yamlContentTypes } from './routes/deploy.ts';
import { registerHealthRoute } from './routes/health.ts';
import { registerInspectRoute } from './routes/inspect.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerWebPages } from './routes/web-pages.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerNodeRoutes } from './routes/nodes.ts';
import { registerServiceRoutes } from './routes/services.ts';
import { registerStackRoutes } from './routes/stacks.ts';
import { registerRolloutRoutes } from './routes/rollouts.ts';
import { installWebsockets } from './websocket.ts';

/** Compose files are small; 4 MiB leaves room for generated ones without inviting abuse. */
export const defaultBodyLimitBytes = 4 * 1024 * 1024;

/** Builds the REST API (not yet listening): the caller decides `listen()` or `inject()`. */
export async function buildApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps route helpers' types simple.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Clients poll while a deploy converges: per-request info lines would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes ?? defaultBodyLimitBytes,
    // Unknown properties are errors (not silently stripped) and nothing is coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  installErrorHandlers(app);
  // First: its onRequest hook marks handshakes, so a handshake refused by the hooks below has its
  // socket destroyed after the refusal; and it must see every WebSocket route as it is declared.
  await installWebsockets(app);
  // onRequest hooks run in this order and before any body is read: a refused request has no effect.
  installCrossSiteGuard(app, deps.bind);
  installBearerAuth(app, { admin: deps.token, ...(deps.readOnlyToken !== undefined ? { readOnly: deps.readOnlyToken } : {}) });
  // text/plain is one of the content types a web page may POST anywhere without a preflight, so
  // the API does not parse it at all (415): compose files come as application/yaml or JSON.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(yamlContentTypes, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  if (deps.refresh) {
    const refresh = deps.refresh;
    // After authentication (an onRequest hook), before the handler reads the state.
    app.addHook('preHandler', async (request) => {
      // /v1/inspect shows this daemon's own actors: nothing to read from a manager.
      if (!request.url.startsWith('/v1/') || request.url.startsWith('/v1/inspect')) return;
      try {
        await refresh();
      } catch (error) {
        throw new ApiError(503, (error as { code?: string }).code ?? 'no_manager', `cannot read the cluster from a manager: ${(error as Error).message}`);
      }
    });
  }
  await registerOpenApi(app);
  const submitter = new CommandSubmitter(deps);
  if (deps.metrics) registerMetricsRoute(app, deps.metrics);
  registerHealthRoute(app, deps);
  registerDeployRoute(app, deps, submitter);
  registerStackRoutes(app, deps, submitter);
  registerRolloutRoutes(app, deps, submitter);
  registerServiceRoutes(app, deps);
  registerContainerRoutes(app, deps);
  registerNodeRoutes(app, deps, submitter);
  if (deps.inspection) registerInspectRoute(app, deps.inspection);
  if (deps.events) registerEventRoutes(app, deps.events);
  registerWebPages(app);
  return app;
}
