import type { Logger } from 'pino';
import type { NodeRole } from '../cluster/commands.ts';
import { RaftError } from '../raft/errors.ts';
import type { NodeStatus } from '../scheduler/types.ts';
import type { Clock } from '../seams/clock.ts';
import { ensureJoinTokens } from './join-server.ts';
import { demoteProblem } from './manager-quorum.ts';
import type { ClusterNode } from './start-cluster-node.ts';

/** Codes that mean "not yet": the learner is still catching up, or another change is pending. */
const NOT_YET = new Set(['learner_not_caught_up', 'config_change_pending', 'leader_not_ready', 'not_leader', 'leadership_transfer_in_progress', 'transfer_failed']);

export interface ManagerMembership {
  /** Runs a pass soon (after a role change was committed). */
  trigger(): void;
  stop(): void;
}

/**
 * On the leader: converges the Raft voter set to the node records' roles, level-triggered. The
 * role a node should have is what the log says (`update-node {role}` from promote/demote, a
 * manager's join); the Raft membership follows here, one single-server change at a time:
 * - a learner whose record says manager (a manager that just joined, or a promoted one) becomes
 *   a voter once it has caught up, so a slow newcomer never costs the quorum;
 * - a voter whose record says worker (demoted) becomes a learner, but only while the managers
 *   left can still commit (see manager-quorum.ts); the leader demoting itself hands its
 *   leadership to another manager first, and the new leader finishes the demotion.
 * The same loop issues the first join tokens after bootstrap.
 */
export function startManagerMembership(options: { cluster: ClusterNode; clock: Clock; logger: Logger; intervalMs: number; statusOf: (id: string) => NodeStatus }): ManagerMembership {
  const { cluster, clock, logger, statusOf } = options;
  let stopped = false;
  let running = false;
  let again = false;
  let timer: unknown;
  const roleOf = (id: string): NodeRole => cluster.store.current().nodes[id]?.role ?? 'manager';
  const notYet = (error: unknown): boolean => error instanceof RaftError && NOT_YET.has(error.code);
  const pass = async (): Promise<void> => {
    if (!cluster.isLeader()) return;
    await ensureJoinTokens(cluster);
    const self = cluster.raft.status().id;
    const { voters, learners } = cluster.raft.status().membership;
    for (const learner of learners) {
      if (roleOf(learner) !== 'manager') continue;
      try {
        await cluster.raft.promoteLearner(learner);
        logger.info({ nodeId: learner }, 'manager caught up and promoted to voter');
      } catch (error) {
        if (!notYet(error)) throw error;
      }
    }
    for (const voter of voters) {
      if (roleOf(voter) !== 'worker') continue;
      const problem = demoteProblem(cluster.raft.status().membership.voters, voter, (id) => statusOf(id) === 'ready');
      if (problem) {
        logger.warn({ nodeId: voter, code: problem.code }, `demotion waits: ${problem.message}`);
        continue;
      }
      try {
        if (voter === self) {
          const successor = cluster.raft.status().membership.voters.find((id) => id !== self && roleOf(id) === 'manager' && statusOf(id) === 'ready');
          if (!successor) continue;
          logger.info({ successor }, 'this leader is demoted: handing leadership over first');
          await cluster.raft.transferLeadership(successor);
          return;
        }
        await cluster.raft.demoteVoter(voter);
        logger.info({ nodeId: voter }, 'manager demoted: a Raft learner now, no longer a voter');
      } catch (error) {
        if (!notYet(error)) throw error;
      }
    }
  };
  const loop = (): void => {
    if (stopped) return;
    clock.clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    pass()
      .catch((error: unknown) => logger.warn({ err: error }, 'manager membership pass failed; retrying'))
      .finally(() => {
        running = false;
        if (stopped) return;
        if (again) {
          again = false;
          loop();
        } else timer = clock.setTimeout(loop, options.intervalMs);
      });
  };
  loop();
  return {
    trigger: loop,
    stop: () => {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
