import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import type { TestDeps } from './fake-deps.ts';

/** Builds an API server for a test and closes it after that test; call once at the top of a file. */
export function serverPerTest(): (deps: TestDeps) => Promise<FastifyInstance> {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  return async (deps) => {
    app = await buildApiServer(deps);
    return app;
  };
}
