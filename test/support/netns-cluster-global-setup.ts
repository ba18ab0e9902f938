import type { TestProject } from 'vitest/node';
import { startNetnsCluster, type NetnsCluster } from './netns-cluster.ts';

/**
 * One three-node netns cluster per test run (engines cost 2–6 s each, CI time matters), shared by
 * every test file of the `cluster` project; files run one at a time and each attaches its own
 * NetnsClusterClient (own daemon configs and data dirs; dispose() empties the engines).
 * No skip path: if the nodes cannot start, the run fails with the reason (also under CI=true).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: NetnsCluster;
  try {
    cluster = await startNetnsCluster({ nodes: 3 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cluster tests need three netns nodes with their own Docker engines and they could not start: ${reason}`, { cause: error });
  }
  project.provide('netnsCluster', cluster.description);
  return async () => {
    await cluster.stop();
  };
}
