import type { NodeId } from './types.ts';
import type { Draft } from './draft.ts';
import { appendAsLeader } from './leader-append.ts';
import { syncProgress } from './membership.ts';
import { rejectAllReads } from './read-index.ts';

/**
 * Role changes. They only rearrange state; sending (votes, appends) is the caller's business, so
 * these stay free of the replication and election modules.
 */
export function becomeFollower(d: Draft, term: number, leaderId: NodeId | undefined): void {
  const s = d.s;
  if (term > s.term) {
    s.term = term;
    s.votedFor = undefined;
  }
  const wasLeader = s.role === 'leader';
  s.role = 'follower';
  s.leaderId = leaderId;
  s.leaderContact = leaderId !== undefined;
  s.votes = {};
  if (wasLeader) abandonLeadership(d);
}

function abandonLeadership(d: Draft): void {
  const s = d.s;
  rejectAllReads(d);
  const transferee = s.leadTransferee;
  // Stepping down for the transferee's vote request or its first append is the transfer working;
  // a different known leader means it failed. (With no leader known yet, the caller waits to see.)
  if (transferee !== undefined && s.leaderId !== undefined && s.leaderId !== transferee) {
    d.out.transfers.push({ to: transferee, status: 'aborted', code: 'transfer_failed', message: `lost leadership before ${transferee} took over`, leaderId: s.leaderId });
  }
  s.leadTransferee = undefined;
  s.transferRounds = 0;
  s.progress = {};
  s.termStartIndex = 0;
  s.pendingConfigIndex = 0;
}

export function becomePreCandidate(d: Draft): void {
  const s = d.s;
  // No term bump and no vote: a pre-campaign changes nothing durable.
  s.role = 'preCandidate';
  s.leaderId = undefined;
  s.leaderContact = false;
  s.votes = { [s.id]: true };
}

export function becomeCandidate(d: Draft): void {
  const s = d.s;
  s.term += 1;
  s.votedFor = s.id;
  s.role = 'candidate';
  s.leaderId = undefined;
  s.leaderContact = false;
  s.votes = { [s.id]: true };
}

/** Sets up leadership and appends the no-op of the new term (nothing commits by counting before it does). */
export function becomeLeader(d: Draft): void {
  const s = d.s;
  s.role = 'leader';
  s.leaderId = s.id;
  s.leaderContact = true;
  s.votes = {};
  s.progress = {};
  syncProgress(s);
  // Any config entry already in the log may be uncommitted: allow no change until all of it is applied.
  s.pendingConfigIndex = s.log.lastIndex;
  s.leadTransferee = undefined;
  s.transferRounds = 0;
  s.pendingReads = [];
  s.readsAwaitingCommit = [];
  const [noop] = appendAsLeader(d, [{ type: 'noop', data: '' }]);
  s.termStartIndex = noop?.index ?? s.log.lastIndex;
}
