import type { Progress } from './raft-state.ts';

/** A follower the leader knows nothing about yet: probe from just past the leader's log. */
export function newProgress(next: number): Progress {
  return { match: 0, next, state: 'probe', probeSent: false, inflight: [], pendingSnapshot: 0, recentActive: false, matchAtLastCheck: 0, stalledChecks: 0 };
}

export function becomeProbe(pr: Progress): void {
  // After a snapshot the follower holds at least the snapshot, so resume past it.
  pr.next = pr.state === 'snapshot' ? Math.max(pr.match + 1, pr.pendingSnapshot + 1) : pr.match + 1;
  pr.state = 'probe';
  pr.probeSent = false;
  pr.inflight = [];
  pr.pendingSnapshot = 0;
}

export function becomeReplicate(pr: Progress): void {
  pr.state = 'replicate';
  pr.next = pr.match + 1;
  pr.probeSent = false;
  pr.inflight = [];
  pr.pendingSnapshot = 0;
}

export function becomeSnapshot(pr: Progress, snapshotIndex: number): void {
  pr.state = 'snapshot';
  pr.pendingSnapshot = snapshotIndex;
  pr.probeSent = false;
  pr.inflight = [];
}

/** Whether the leader must hold further appends to this follower for now. */
export function isPaused(pr: Progress, maxInflight: number): boolean {
  switch (pr.state) {
    case 'probe':
      return pr.probeSent;
    case 'replicate':
      return pr.inflight.length >= maxInflight;
    case 'snapshot':
      return true;
  }
}

/** Frees the window slots of appends the follower has now acknowledged. */
export function freeInflightUpTo(pr: Progress, index: number): void {
  let drop = 0;
  while (drop < pr.inflight.length && (pr.inflight[drop] as number) <= index) drop++;
  if (drop > 0) pr.inflight.splice(0, drop);
}
