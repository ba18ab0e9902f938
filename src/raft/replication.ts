import type { Entry, NodeId } from './types.ts';
import type { AppendEntries, AppendEntriesResponse, Heartbeat, HeartbeatResponse } from './messages.ts';
import type { Draft } from './draft.ts';
import { persistEntries, send } from './draft.ts';
import { commitTo, maybeCommit } from './commit.ts';
import { noteAppended, noteTruncated } from './membership.ts';
import { becomeProbe, becomeReplicate, becomeSnapshot, freeInflightUpTo, isPaused } from './progress.ts';
import { peersOf } from './quorum.ts';

/**
 * Leader → follower: send the entries from the follower's `next` (batched up to the configured size).
 * In probe state one append is outstanding at a time; in replicate state appends are pipelined up to
 * the in-flight window. A follower behind the compacted log gets the snapshot instead.
 * Returns whether anything was sent.
 */
export function sendAppend(d: Draft, to: NodeId, sendIfEmpty: boolean): boolean {
  const s = d.s;
  const pr = s.progress[to];
  if (!pr || isPaused(pr, s.config.maxInflightAppends)) return false;
  if (pr.next > s.log.lastIndex + 1) pr.next = s.log.lastIndex + 1;
  const prevLogIndex = pr.next - 1;
  const prevLogTerm = s.log.term(prevLogIndex);
  if (prevLogTerm === undefined) {
    const snapshot = s.log.snapshot;
    if (!snapshot) return false;
    becomeSnapshot(pr, snapshot.lastIncludedIndex);
    send(d, { type: 'install-snapshot', term: s.term, from: s.id, to, snapshot });
    return true;
  }
  const entries = s.log.slice(pr.next, s.log.lastIndex, s.config.maxEntriesPerAppend, s.config.maxBytesPerAppend);
  // A probe whose starting point is unverified goes out even empty: its answer finds the match point.
  const unverifiedProbe = pr.state === 'probe' && pr.match < prevLogIndex;
  if (entries.length === 0 && !sendIfEmpty && !unverifiedProbe) return false;
  send(d, { type: 'append-entries', term: s.term, from: s.id, to, prevLogIndex, prevLogTerm, entries, leaderCommit: s.commitIndex });
  if (pr.state === 'replicate') {
    if (entries.length > 0) {
      const last = (entries[entries.length - 1] as Entry).index;
      pr.next = last + 1;
      pr.inflight.push(last);
    }
  } else {
    pr.probeSent = true;
  }
  return true;
}

/** Sends as much as the window allows (several batches when replicating). */
export function sendAppends(d: Draft, to: NodeId): void {
  if (!sendAppend(d, to, false)) return;
  while (d.s.progress[to]?.state === 'replicate' && sendAppend(d, to, false)) {
    // keep filling the pipeline
  }
}

export function broadcastAppends(d: Draft): void {
  for (const peer of peersOf(d.s.membership, d.s.id)) sendAppends(d, peer);
}

/**
 * After the commit index moved: followers with appends in flight learn it from the next append;
 * idle ones get an empty append so they can apply promptly.
 */
export function broadcastCommit(d: Draft): void {
  for (const peer of peersOf(d.s.membership, d.s.id)) {
    const pr = d.s.progress[peer];
    if (!pr) continue;
    if (pr.state === 'replicate' && pr.inflight.length === 0) sendAppend(d, peer, true);
    else sendAppends(d, peer);
  }
}

export function sendHeartbeats(d: Draft, context: number | undefined): void {
  const s = d.s;
  for (const peer of peersOf(s.membership, s.id)) {
    const pr = s.progress[peer];
    // Never more than the follower is known to hold: it can adopt this commit index without a log check.
    const commitIndex = Math.min(pr?.match ?? 0, s.commitIndex);
    const heartbeat: Heartbeat = context === undefined
      ? { type: 'heartbeat', term: s.term, from: s.id, to: peer, commitIndex }
      : { type: 'heartbeat', term: s.term, from: s.id, to: peer, commitIndex, context };
    send(d, heartbeat);
  }
}

/**
 * Follower: the AppendEntries consistency check (Raft §5.3). Reject when the log has no entry at
 * prevLogIndex with prevLogTerm, with a hint for fast back-off; otherwise delete the first conflicting
 * entry and everything after it, append what is new, and adopt the leader's commit index.
 */
export function handleAppendEntries(d: Draft, m: AppendEntries): void {
  const s = d.s;
  const reply = (fields: Omit<AppendEntriesResponse, 'type' | 'term' | 'from' | 'to' | 'lastLogIndex'>): void =>
    send(d, { type: 'append-entries-response', term: s.term, from: s.id, to: m.from, lastLogIndex: s.log.lastIndex, ...fields });

  let prevLogIndex = m.prevLogIndex;
  let prevLogTerm = m.prevLogTerm;
  let entries = m.entries;
  const lastNew = m.prevLogIndex + m.entries.length;
  if (prevLogIndex < s.commitIndex) {
    // Everything up to our commit index is committed, hence identical on the leader: skip that part.
    if (lastNew <= s.commitIndex) {
      reply({ success: true, matchIndex: s.commitIndex });
      return;
    }
    entries = entries.slice(s.commitIndex - prevLogIndex);
    prevLogIndex = s.commitIndex;
    prevLogTerm = s.log.term(prevLogIndex) as number;
  }

  const localTerm = s.log.term(prevLogIndex);
  if (localTerm === undefined) {
    reply({ success: false, matchIndex: 0, rejectedIndex: m.prevLogIndex, conflictIndex: s.log.lastIndex + 1 });
    return;
  }
  if (localTerm !== prevLogTerm) {
    reply({ success: false, matchIndex: 0, rejectedIndex: m.prevLogIndex, conflictTerm: localTerm, conflictIndex: s.log.firstIndexOfTermAt(prevLogIndex) });
    return;
  }

  let firstNew = entries.length;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position] as Entry;
    const existing = s.log.term(entry.index);
    if (existing !== entry.term) {
      firstNew = position;
      break;
    }
  }
  if (firstNew < entries.length) {
    const fresh = entries.slice(firstNew);
    const from = (fresh[0] as Entry).index;
    if (from <= s.log.lastIndex) {
      if (from <= s.commitIndex) throw new Error(`leader ${m.from} tried to overwrite committed entry ${from} on ${s.id}`);
      noteTruncated(s, from);
      s.stableIndex = Math.min(s.stableIndex, from - 1);
    }
    s.log = s.log.append(fresh);
    persistEntries(d, fresh);
    noteAppended(s, fresh);
  }
  commitTo(d, Math.min(m.leaderCommit, lastNew));
  reply({ success: true, matchIndex: lastNew });
}

export function handleHeartbeat(d: Draft, m: Heartbeat): void {
  const s = d.s;
  commitTo(d, m.commitIndex);
  const response: HeartbeatResponse = m.context === undefined
    ? { type: 'heartbeat-response', term: s.term, from: s.id, to: m.from, lastLogIndex: s.log.lastIndex }
    : { type: 'heartbeat-response', term: s.term, from: s.id, to: m.from, lastLogIndex: s.log.lastIndex, context: m.context };
  send(d, response);
}

/** Leader: returns whether the commit index advanced. */
export function handleAppendResponse(d: Draft, m: AppendEntriesResponse): boolean {
  const s = d.s;
  const pr = s.progress[m.from];
  if (!pr) return false;
  pr.recentActive = true;
  if (!m.success) {
    const rejected = m.rejectedIndex ?? 0;
    // Only the answer to the append we are waiting on may move `next`; older rejections are stale.
    const stale = pr.state === 'replicate' ? rejected <= pr.match : pr.state === 'probe' ? rejected !== pr.next - 1 : true;
    if (stale) return false;
    let next: number;
    if (m.conflictTerm !== undefined) {
      // Skip the follower's whole conflicting term, or to just past our last entry of that term.
      const ours = s.log.lastIndexOfTerm(m.conflictTerm, rejected);
      next = ours > 0 ? ours + 1 : (m.conflictIndex ?? rejected);
    } else {
      next = m.conflictIndex ?? rejected;
    }
    if (pr.state === 'replicate') becomeProbe(pr);
    pr.next = Math.max(Math.min(next, rejected), pr.match + 1);
    pr.probeSent = false;
    sendAppends(d, m.from);
    return false;
  }
  let committed = false;
  if (m.matchIndex > pr.match || (pr.state === 'probe' && m.matchIndex >= pr.match)) {
    pr.match = Math.max(pr.match, m.matchIndex);
    pr.stalledChecks = 0;
    if (pr.state === 'probe') becomeReplicate(pr);
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) becomeProbe(pr);
    else freeInflightUpTo(pr, pr.match);
    if (pr.next <= pr.match) pr.next = pr.match + 1;
    committed = maybeCommit(d);
    if (committed) broadcastCommit(d);
  }
  sendAppends(d, m.from);
  return committed;
}

export function handleHeartbeatResponse(d: Draft, m: HeartbeatResponse): void {
  const s = d.s;
  const pr = s.progress[m.from];
  if (!pr) return;
  pr.recentActive = true;
  if (pr.state === 'probe') pr.probeSent = false;
  if (pr.state === 'replicate' && m.lastLogIndex < pr.next - 1) {
    // The follower lacks entries we streamed before this heartbeat: appends were lost. On an ordered
    // transport this is exact; on a reordering one it at worst resends what is still in flight.
    const resumeAt = Math.max(pr.match + 1, m.lastLogIndex + 1);
    becomeProbe(pr);
    pr.next = resumeAt;
  }
  if (pr.state === 'snapshot' && m.lastLogIndex >= pr.pendingSnapshot) {
    // The snapshot arrived but its answer was lost.
    becomeProbe(pr);
  }
  if (pr.match < s.log.lastIndex) sendAppends(d, m.from);
}
