import { majority } from '../raft/quorum.ts';

export interface QuorumProblem {
  readonly code: 'last_manager' | 'demote_would_lose_quorum';
  readonly message: string;
}

/**
 * Whether taking `target`'s vote away keeps the cluster able to commit: the voters left must be
 * at least one, and enough of them must be live (heard within the grace) to form their own
 * majority. Demoting a down manager is how an operator shrinks a cluster that lost one, so only
 * the live ones left count, not the target.
 */
export function demoteProblem(voters: readonly string[], target: string, isLive: (id: string) => boolean): QuorumProblem | undefined {
  if (!voters.includes(target)) return undefined;
  const left = voters.filter((id) => id !== target);
  if (left.length === 0) {
    return { code: 'last_manager', message: `${target} is the only manager (Raft voter): promote another node first, a cluster needs at least one manager` };
  }
  const live = left.filter(isLive);
  const needed = majority(left.length);
  if (live.length < needed) {
    const down = left.filter((id) => !isLive(id));
    return {
      code: 'demote_would_lose_quorum',
      message: `demoting ${target} would leave ${left.length} manager(s) of which only ${live.length} are up (${down.join(', ')} not), and ${needed} are needed to commit: bring them back or demote/remove the down ones first`,
    };
  }
  return undefined;
}
