import { afterEach } from 'vitest';
import { buildTestApi, type TestApi, type TestDeps } from './fake-deps.ts';

/** Builds an API server for a test and closes it after that test; call once at the top of a file. */
export function serverPerTest(): (deps: TestDeps) => Promise<TestApi> {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  return async (deps) => {
    api = await buildTestApi(deps);
    return api;
  };
}
