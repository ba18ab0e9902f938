import type { Logger } from 'pino';
import type { RaftNode } from '../raft/raft-node.ts';

/** Logs every role or leader change, e.g. "became leader" lines the tests and bench wait for. */
export function watchRoleChanges(node: RaftNode, logger: Logger): () => void {
  let last = { role: '', term: -1, leaderId: undefined as string | undefined };
  const check = (): void => {
    const status = node.status();
    if (status.role === last.role && status.term === last.term && status.leaderId === last.leaderId) return;
    const becameLeader = status.role === 'leader' && last.role !== 'leader';
    last = { role: status.role, term: status.term, leaderId: status.leaderId };
    logger.info({ role: status.role, term: status.term, leaderId: status.leaderId }, becameLeader ? 'became leader' : 'raft role changed');
  };
  check();
  const subscription = node.actor.subscribe({ next: check, error: () => undefined });
  // Leader id and term can change without a role-machine transition visible to subscribers.
  const timer = setInterval(check, 100);
  timer.unref();
  return () => {
    subscription.unsubscribe();
    clearInterval(timer);
  };
}
