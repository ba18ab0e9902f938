import type { Snapshot } from './types.ts';
import type { InstallSnapshot, InstallSnapshotResponse } from './messages.ts';
import type { Draft } from './draft.ts';
import { send } from './draft.ts';
import { RaftLog } from './log.ts';
import { membershipAt, noteCompacted, noteRestored } from './membership.ts';
import { becomeProbe } from './progress.ts';
import { sendAppends } from './replication.ts';

/**
 * Log compaction (Raft §7). The core cannot serialize the state machine, so it asks: once
 * `snapshotEveryEntries` entries were applied since the last snapshot it emits `snapshotRequest`, the
 * driver serializes its state at that index and feeds it back as 'snapshot-taken'.
 */
export function maybeRequestSnapshot(d: Draft): void {
  const s = d.s;
  const every = s.config.snapshotEveryEntries;
  if (every <= 0 || s.snapshotRequestedAt > 0) return;
  if (s.appliedIndex - s.log.snapshotIndex >= every) {
    s.snapshotRequestedAt = s.appliedIndex;
    d.out.snapshotRequest = s.appliedIndex;
  }
}

export function onSnapshotTaken(d: Draft, index: number, data: string): void {
  const s = d.s;
  // Any answer settles the outstanding request (the driver may report the index it really reached).
  s.snapshotRequestedAt = 0;
  // Stale (a newer snapshot was installed meanwhile) or impossible (not applied yet): ignore.
  if (index <= s.log.snapshotIndex || index > s.appliedIndex) return;
  const snapshot: Snapshot = { lastIncludedIndex: index, lastIncludedTerm: s.log.term(index) as number, membership: membershipAt(s, index), data };
  noteCompacted(s, index);
  s.log = s.log.compact(snapshot);
  d.out.persist.snapshot = snapshot;
}

/**
 * Follower: install a snapshot from the leader. If the log already holds its last entry (same term)
 * the snapshot tells nothing new beyond a commit point; otherwise the whole log is replaced.
 */
export function handleInstallSnapshot(d: Draft, m: InstallSnapshot): void {
  const s = d.s;
  const snapshot = m.snapshot;
  const reply = (matchIndex: number): void => {
    const response: InstallSnapshotResponse = { type: 'install-snapshot-response', term: s.term, from: s.id, to: m.from, matchIndex, snapshotIndex: snapshot.lastIncludedIndex };
    send(d, response);
  };
  if (snapshot.lastIncludedIndex <= s.commitIndex) {
    reply(s.commitIndex);
    return;
  }
  if (s.log.term(snapshot.lastIncludedIndex) === snapshot.lastIncludedTerm) {
    s.commitIndex = snapshot.lastIncludedIndex;
    reply(snapshot.lastIncludedIndex);
    return;
  }
  s.log = RaftLog.fromSnapshot(snapshot);
  noteRestored(s, snapshot.membership);
  s.commitIndex = snapshot.lastIncludedIndex;
  s.appliedIndex = snapshot.lastIncludedIndex;
  s.stableIndex = snapshot.lastIncludedIndex;
  if (s.snapshotRequestedAt > 0 && s.snapshotRequestedAt <= snapshot.lastIncludedIndex) s.snapshotRequestedAt = 0;
  d.out.persist.snapshot = snapshot;
  // A snapshot replaces any entries this step was about to persist.
  delete d.out.persist.entries;
  d.out.applySnapshot = snapshot;
  d.out.apply = [];
  reply(snapshot.lastIncludedIndex);
}

export function handleSnapshotResponse(d: Draft, m: InstallSnapshotResponse): void {
  const s = d.s;
  const pr = s.progress[m.from];
  if (!pr) return;
  pr.recentActive = true;
  if (m.matchIndex > pr.match) pr.match = m.matchIndex;
  if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
    becomeProbe(pr);
    sendAppends(d, m.from);
  }
}
