import type { PreVote, PreVoteResponse, RequestVote, RequestVoteResponse } from './messages.ts';
import type { Draft } from './draft.ts';
import { send } from './draft.ts';
import { isVoter, tallyVotes } from './quorum.ts';
import { becomeCandidate, becomeFollower, becomeLeader, becomePreCandidate } from './roles.ts';
import { broadcastAppends } from './replication.ts';
import { maybeCommit } from './commit.ts';

/**
 * Leader election (Raft §5.2) with pre-vote (thesis §9.6): a pre-candidate first asks whether it
 * could win without touching its term, so a node cut off from the cluster cannot inflate terms and
 * depose a healthy leader when it comes back.
 */
export function onElectionTimeout(d: Draft): void {
  const s = d.s;
  if (s.role === 'leader') return;
  if (!isVoter(s.membership, s.id)) {
    // Learners and removed members never campaign, but they stop believing in a silent leader.
    s.leaderId = undefined;
    s.leaderContact = false;
    return;
  }
  campaign(d, s.config.preVote ? 'pre-vote' : 'vote', false);
}

export function campaign(d: Draft, kind: 'pre-vote' | 'vote', leaderTransfer: boolean): void {
  const s = d.s;
  if (kind === 'pre-vote') becomePreCandidate(d);
  else becomeCandidate(d);
  if (tallyVotes(s.membership.voters, s.votes) === 'won') {
    winRound(d, kind);
    return;
  }
  const lastLogIndex = s.log.lastIndex;
  const lastLogTerm = s.log.lastTerm;
  for (const voter of s.membership.voters) {
    if (voter === s.id) continue;
    if (kind === 'pre-vote') {
      send(d, { type: 'pre-vote', term: s.term + 1, from: s.id, to: voter, lastLogIndex, lastLogTerm });
    } else {
      send(d, { type: 'request-vote', term: s.term, from: s.id, to: voter, lastLogIndex, lastLogTerm, leaderTransfer });
    }
  }
}

function winRound(d: Draft, kind: 'pre-vote' | 'vote'): void {
  if (kind === 'pre-vote') {
    campaign(d, 'vote', false);
    return;
  }
  becomeLeader(d);
  maybeCommit(d);
  broadcastAppends(d);
}

/** Grant at most one vote per term, and only to a candidate whose log is at least as up to date (§5.4.1). */
export function handleVoteRequest(d: Draft, m: RequestVote | PreVote): void {
  const s = d.s;
  const canVote =
    s.votedFor === m.from ||
    (s.votedFor === undefined && s.leaderId === undefined) ||
    (m.type === 'pre-vote' && m.term > s.term);
  const lastTerm = s.log.lastTerm;
  const upToDate = m.lastLogTerm > lastTerm || (m.lastLogTerm === lastTerm && m.lastLogIndex >= s.log.lastIndex);
  const granted = canVote && upToDate;
  if (m.type === 'request-vote') {
    if (granted) {
      s.votedFor = m.from;
      d.out.resetElectionTimer = true;
    }
    const response: RequestVoteResponse = { type: 'request-vote-response', term: s.term, from: s.id, to: m.from, granted };
    send(d, response);
  } else {
    const response: PreVoteResponse = { type: 'pre-vote-response', term: granted ? m.term : s.term, from: s.id, to: m.from, granted };
    send(d, response);
  }
}

export function handleVoteResponse(d: Draft, m: RequestVoteResponse | PreVoteResponse): void {
  const s = d.s;
  const kind = m.type === 'pre-vote-response' ? 'pre-vote' : 'vote';
  if ((kind === 'pre-vote' && s.role !== 'preCandidate') || (kind === 'vote' && s.role !== 'candidate')) return;
  s.votes = { ...s.votes, [m.from]: m.granted };
  const result = tallyVotes(s.membership.voters, s.votes);
  if (result === 'won') winRound(d, kind);
  else if (result === 'lost') becomeFollower(d, s.term, undefined);
}
