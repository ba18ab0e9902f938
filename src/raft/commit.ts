import type { Draft } from './draft.ts';
import { quorumIndex } from './quorum.ts';

/**
 * Leader: advance the commit index to what a quorum of voters holds, but only when that entry is of
 * the current term (Raft §5.4.2, Figure 8). Older-term entries then commit indirectly, by the Log
 * Matching property. A leader that is not a voter (being removed) does not count itself, and counts
 * itself only as far as its own disk holds the log (stableIndex).
 */
export function maybeCommit(d: Draft): boolean {
  const s = d.s;
  if (s.role !== 'leader') return false;
  const index = quorumIndex(s.membership.voters, (id) => (id === s.id ? Math.min(s.stableIndex, s.log.lastIndex) : (s.progress[id]?.match ?? 0)));
  if (index > s.commitIndex && s.log.term(index) === s.term) {
    s.commitIndex = index;
    return true;
  }
  return false;
}

/** Follower: adopt the leader's commit index as far as this log is known to match it. */
export function commitTo(d: Draft, index: number): void {
  const s = d.s;
  const target = Math.min(index, s.log.lastIndex);
  if (target > s.commitIndex) s.commitIndex = target;
}
