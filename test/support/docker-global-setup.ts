import type { TestProject } from 'vitest/node';
import { startPrivateEngine, type PrivateEngine } from './docker-engine.ts';
import { ensureTestImage, TEST_IMAGE } from './test-image.ts';

/**
 * One private dockerd per test run, shared by every Docker test file (they run one at a time).
 * The name carries our pid so concurrent runs on one machine each get their own engine.
 * There is no skip path: if the engine cannot start, the run fails with the reason (also under CI=true).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let engine: PrivateEngine;
  try {
    engine = await startPrivateEngine(`run-${process.pid}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Docker tests need a private Docker engine and it could not start: ${reason}`, { cause: error });
  }
  try {
    await ensureTestImage(engine.dockerHost, TEST_IMAGE);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  project.provide('dockerSocket', engine.socketPath);
  project.provide('testImage', TEST_IMAGE);
  return async () => {
    await engine.stop();
  };
}
