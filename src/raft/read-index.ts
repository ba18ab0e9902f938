import type { NodeId } from './types.ts';
import type { Draft } from './draft.ts';
import { send } from './draft.ts';
import { hasQuorum, isVoter, peersOf } from './quorum.ts';

/**
 * ReadIndex (Raft thesis §6.4): a leader answers a read at its current commit index once a quorum
 * has confirmed, after the read arrived, that it still leads (a heartbeat round carrying a context).
 * The caller then waits until it has applied that index. Contexts grow monotonically, so one
 * acknowledgement of context c confirms every read registered at or before c.
 */
export function onReadIndex(d: Draft, readId: number): void {
  const s = d.s;
  if (s.role !== 'leader') {
    d.out.readRejections.push({ readId, leaderId: s.leaderId });
    return;
  }
  // Until an entry of its own term commits, the leader may not know the latest commit index.
  if (s.commitIndex < s.termStartIndex) {
    s.readsAwaitingCommit = [...s.readsAwaitingCommit, readId];
    return;
  }
  registerRead(d, readId);
}

function registerRead(d: Draft, readId: number): void {
  const s = d.s;
  const voters = s.membership.voters;
  if (hasQuorum(voters, (id) => id === s.id)) {
    d.out.readStates.push({ readId, index: s.commitIndex });
    return;
  }
  s.readContext += 1;
  const context = s.readContext;
  s.pendingReads = [...s.pendingReads, { readId, index: s.commitIndex, context, acks: isVoter(s.membership, s.id) ? [s.id] : [] }];
  for (const peer of peersOf(s.membership, s.id)) {
    const pr = s.progress[peer];
    send(d, { type: 'heartbeat', term: s.term, from: s.id, to: peer, commitIndex: Math.min(pr?.match ?? 0, s.commitIndex), context });
  }
}

/** Once the leader's no-op commits, reads that waited for it start their heartbeat round. */
export function releaseReadsAwaitingCommit(d: Draft): void {
  const s = d.s;
  if (s.role !== 'leader' || s.readsAwaitingCommit.length === 0 || s.commitIndex < s.termStartIndex) return;
  const waiting = s.readsAwaitingCommit;
  s.readsAwaitingCommit = [];
  for (const readId of waiting) registerRead(d, readId);
}

export function onHeartbeatAck(d: Draft, from: NodeId, context: number | undefined): void {
  const s = d.s;
  if (context === undefined || s.pendingReads.length === 0 || !isVoter(s.membership, from)) return;
  let confirmedUpTo = -1;
  const pending = s.pendingReads.map((read) => {
    if (read.context > context || read.acks.includes(from)) return read;
    return { ...read, acks: [...read.acks, from] };
  });
  pending.forEach((read, position) => {
    if (hasQuorum(s.membership.voters, (id) => read.acks.includes(id))) confirmedUpTo = position;
  });
  // A confirmed round also confirms every earlier read (it was registered before that round began).
  for (let position = 0; position <= confirmedUpTo; position++) {
    const read = pending[position] as (typeof pending)[number];
    d.out.readStates.push({ readId: read.readId, index: read.index });
  }
  s.pendingReads = pending.slice(confirmedUpTo + 1);
}

/** The newest read round, for heartbeats to carry while reads are waiting (retries a lost round). */
export function heartbeatContext(d: Draft): number | undefined {
  return d.s.pendingReads.length > 0 ? d.s.readContext : undefined;
}

/** Leadership ended: nobody can confirm these reads any more. */
export function rejectAllReads(d: Draft): void {
  const s = d.s;
  for (const read of s.pendingReads) d.out.readRejections.push({ readId: read.readId, leaderId: s.leaderId });
  for (const readId of s.readsAwaitingCommit) d.out.readRejections.push({ readId, leaderId: s.leaderId });
  s.pendingReads = [];
  s.readsAwaitingCommit = [];
}
