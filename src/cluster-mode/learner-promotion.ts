import type { Logger } from 'pino';
import { RaftError } from '../raft/errors.ts';
import type { Clock } from '../seams/clock.ts';
import { ensureJoinTokens } from './join-server.ts';
import type { ClusterNode } from './start-cluster-node.ts';

/** Codes that mean "not yet": the learner is still catching up, or another change is pending. */
const NOT_YET = new Set(['learner_not_caught_up', 'config_change_pending', 'leader_not_ready', 'not_leader']);

/**
 * On the leader: a manager joins as a Raft learner (it cannot vote before it holds the log, or it
 * could cost the cluster its quorum while it catches up) and is promoted here once it has caught
 * up. The same loop issues the first join tokens after bootstrap.
 */
export function startLearnerPromotion(options: { cluster: ClusterNode; clock: Clock; logger: Logger; intervalMs: number }): { stop(): void } {
  const { cluster, clock, logger } = options;
  let stopped = false;
  let timer: unknown;
  const pass = async (): Promise<void> => {
    if (!cluster.isLeader()) return;
    await ensureJoinTokens(cluster);
    for (const learner of cluster.raft.status().membership.learners) {
      try {
        await cluster.raft.promoteLearner(learner);
        logger.info({ nodeId: learner }, 'manager caught up and promoted to voter');
      } catch (error) {
        if (!(error instanceof RaftError && NOT_YET.has(error.code))) throw error;
      }
    }
  };
  const loop = (): void => {
    if (stopped) return;
    pass()
      .catch((error: unknown) => logger.warn({ err: error }, 'learner promotion pass failed; retrying'))
      .finally(() => {
        if (!stopped) timer = clock.setTimeout(loop, options.intervalMs);
      });
  };
  loop();
  return {
    stop: () => {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
