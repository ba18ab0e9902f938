import type { RaftMessage } from './messages.ts';
import type { RaftInput, RaftState, StepResult } from './raft-state.ts';
import type { Draft } from './draft.ts';
import { beginStep, finishOutbox, send } from './draft.ts';
import { campaign, handleVoteRequest, handleVoteResponse, onElectionTimeout } from './election.ts';
import { handleAppendEntries, handleAppendResponse, handleHeartbeat, handleHeartbeatResponse, broadcastAppends, broadcastCommit, sendAppends, sendHeartbeats } from './replication.ts';
import { maybeCommit } from './commit.ts';
import { appendAsLeader } from './leader-append.ts';
import { onProposeConfig } from './config-change.ts';
import { heartbeatContext, onHeartbeatAck, onReadIndex, releaseReadsAwaitingCommit } from './read-index.ts';
import { expireTransfer, maybeSendTimeoutNow, onTransferLeadership } from './transfer.ts';
import { handleInstallSnapshot, handleSnapshotResponse, maybeRequestSnapshot, onSnapshotTaken } from './snapshot.ts';
import { becomeFollower } from './roles.ts';
import { becomeProbe } from './progress.ts';
import { isVoter, majority } from './quorum.ts';

/**
 * The whole of Raft as one pure function: (state, input) → (state, outbox). No clock, no I/O, no
 * randomness; the caller persists, sends and applies what the outbox says, in that order.
 */
export function step(state: RaftState, input: RaftInput): StepResult {
  const d = beginStep(state);
  switch (input.type) {
    case 'message':
      handleMessage(d, input.message);
      break;
    case 'propose':
      onPropose(d, input.proposalId, input.data);
      break;
    case 'propose-config':
      onProposeConfig(d, input.proposalId, input.change);
      break;
    case 'read-index':
      onReadIndex(d, input.readId);
      break;
    case 'transfer-leadership':
      onTransferLeadership(d, input.to);
      break;
    case 'snapshot-taken':
      onSnapshotTaken(d, input.index, input.data);
      break;
    case 'election-timeout':
      onElectionTimeout(d);
      break;
    case 'heartbeat-timeout':
      if (d.s.role === 'leader') sendHeartbeats(d, heartbeatContext(d));
      break;
    case 'check-quorum':
      onCheckQuorum(d);
      break;
    case 'log-synced':
      onLogSynced(d, input.index, input.term);
      break;
    case 'lease-expired':
      if (d.s.role !== 'leader') d.s.leaderContact = false;
      break;
  }
  finish(d, state);
  return { state: d.s, outbox: finishOutbox(d.out) };
}

/** Messages that only a leader of `term` sends. */
function isFromLeader(m: RaftMessage): boolean {
  return m.type === 'append-entries' || m.type === 'heartbeat' || m.type === 'install-snapshot';
}

function handleMessage(d: Draft, m: RaftMessage): void {
  const s = d.s;
  if (m.to !== s.id || m.from === s.id) return;
  if (m.term > s.term) {
    const inLease = s.role === 'leader' || (s.leaderId !== undefined && s.leaderContact);
    if (m.type === 'pre-vote' && inLease) {
      // Lease: we heard from a live leader within the election timeout, so no pre-vote for anyone.
      send(d, { type: 'pre-vote-response', term: s.term, from: s.id, to: m.from, granted: false });
      return;
    }
    if (m.type === 'request-vote' && !m.leaderTransfer && s.config.checkQuorum && inLease) {
      // Same lease for real votes (check-quorum makes it safe): ignore without adopting the term.
      return;
    }
    const keepsTerm = m.type === 'pre-vote' || (m.type === 'pre-vote-response' && m.granted);
    if (!keepsTerm) becomeFollower(d, m.term, isFromLeader(m) ? m.from : undefined);
  } else if (m.term < s.term) {
    answerStale(d, m);
    return;
  }

  switch (m.type) {
    case 'request-vote':
    case 'pre-vote':
      handleVoteRequest(d, m);
      return;
    case 'request-vote-response':
    case 'pre-vote-response':
      handleVoteResponse(d, m);
      return;
    case 'append-entries':
    case 'heartbeat':
    case 'install-snapshot':
      if (s.role === 'leader') return; // another leader in our term cannot exist (Election Safety)
      if (s.role !== 'follower') becomeFollower(d, m.term, m.from);
      s.leaderId = m.from;
      s.leaderContact = true;
      d.out.resetElectionTimer = true;
      if (m.type === 'append-entries') handleAppendEntries(d, m);
      else if (m.type === 'heartbeat') handleHeartbeat(d, m);
      else handleInstallSnapshot(d, m);
      return;
    case 'append-entries-response':
      if (s.role !== 'leader') return;
      handleAppendResponse(d, m);
      maybeSendTimeoutNow(d, m.from);
      return;
    case 'heartbeat-response':
      if (s.role !== 'leader') return;
      handleHeartbeatResponse(d, m);
      onHeartbeatAck(d, m.from, m.context);
      return;
    case 'install-snapshot-response':
      if (s.role !== 'leader') return;
      handleSnapshotResponse(d, m);
      // A snapshot can bring the transferee to our last index with no append answer to follow.
      maybeSendTimeoutNow(d, m.from);
      return;
    case 'timeout-now':
      if (s.role !== 'leader' && isVoter(s.membership, s.id)) campaign(d, 'vote', true);
      return;
  }
}

/** A message from an older term: tell the sender our term so a deposed leader or late candidate steps down. */
function answerStale(d: Draft, m: RaftMessage): void {
  const s = d.s;
  const envelope = { term: s.term, from: s.id, to: m.from };
  switch (m.type) {
    case 'append-entries':
      send(d, { type: 'append-entries-response', ...envelope, success: false, matchIndex: 0, lastLogIndex: s.log.lastIndex });
      return;
    case 'heartbeat':
      send(d, { type: 'heartbeat-response', ...envelope, lastLogIndex: s.log.lastIndex });
      return;
    case 'install-snapshot':
      send(d, { type: 'install-snapshot-response', ...envelope, matchIndex: 0, snapshotIndex: m.snapshot.lastIncludedIndex });
      return;
    case 'request-vote':
      send(d, { type: 'request-vote-response', ...envelope, granted: false });
      return;
    case 'pre-vote':
      send(d, { type: 'pre-vote-response', ...envelope, granted: false });
      return;
    default:
      return; // stale responses and TimeoutNow mean nothing now
  }
}

function onPropose(d: Draft, proposalId: number, data: readonly string[]): void {
  const s = d.s;
  if (s.role !== 'leader') {
    d.out.proposals.push({ proposalId, accepted: false, code: 'not_leader', message: `${s.id} is not the leader`, leaderId: s.leaderId });
    return;
  }
  if (s.leadTransferee !== undefined) {
    d.out.proposals.push({ proposalId, accepted: false, code: 'leadership_transfer_in_progress', message: `leadership is moving to ${s.leadTransferee}`, leaderId: s.leaderId });
    return;
  }
  if (data.length === 0) return;
  const entries = appendAsLeader(d, data.map((item) => ({ type: 'normal' as const, data: item })));
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (first && last) d.out.proposals.push({ proposalId, accepted: true, firstIndex: first.index, lastIndex: last.index, term: s.term });
  maybeCommit(d);
  broadcastAppends(d);
}

/**
 * Every election timeout the leader checks it still hears from a quorum (else it steps down, so a
 * partitioned leader stops serving), expires a stuck leader transfer and restarts stalled pipelines.
 */
function onCheckQuorum(d: Draft): void {
  const s = d.s;
  if (s.role !== 'leader') return;
  if (s.config.checkQuorum) {
    const active = s.membership.voters.filter((id) => id === s.id || s.progress[id]?.recentActive === true).length;
    if (active < majority(s.membership.voters.length)) {
      becomeFollower(d, s.term, undefined);
      return;
    }
  }
  for (const [peer, pr] of Object.entries(s.progress)) {
    pr.recentActive = false;
    const waiting = (pr.state === 'replicate' && pr.inflight.length > 0) || pr.state === 'snapshot';
    pr.stalledChecks = waiting && pr.match === pr.matchAtLastCheck ? pr.stalledChecks + 1 : 0;
    pr.matchAtLastCheck = pr.match;
    if (pr.stalledChecks >= 2) {
      // Appends or the snapshot were probably lost: find the match point again.
      pr.stalledChecks = 0;
      becomeProbe(pr);
      sendAppends(d, peer);
    }
  }
  expireTransfer(d);
}

/** Only an entry still in the log (same index and term) proves the prefix up to it durable. */
function onLogSynced(d: Draft, index: number, term: number): void {
  const s = d.s;
  if (index <= s.stableIndex || s.log.term(index) !== term) return;
  s.stableIndex = index;
  if (maybeCommit(d)) broadcastCommit(d);
}

function finish(d: Draft, before: RaftState): void {
  const s = d.s;
  if (s.role === 'leader') {
    const lastConfig = s.configs[s.configs.length - 1];
    if (!isVoter(s.membership, s.id) && (lastConfig === undefined || s.commitIndex >= lastConfig.index)) {
      // Our removal is committed: hand over by stepping down (another voter's timer will fire).
      becomeFollower(d, s.term, undefined);
    } else {
      releaseReadsAwaitingCommit(d);
    }
  }
  if (s.commitIndex > s.appliedIndex) {
    d.out.apply = s.log.slice(s.appliedIndex + 1, s.commitIndex);
    s.appliedIndex = s.commitIndex;
  }
  maybeRequestSnapshot(d);
  if (s.term !== before.term || s.votedFor !== before.votedFor || s.commitIndex !== before.commitIndex) {
    d.out.persist.hardState = { term: s.term, votedFor: s.votedFor, commitIndex: s.commitIndex };
  }
}
