import type { Entry, HardState, Snapshot } from './types.ts';
import type { RaftMessage } from './messages.ts';
import type { Outbox, ProposalOutcome, RaftState, ReadRejection, ReadState, TransferOutcome } from './raft-state.ts';

/** The outbox while a step builds it. */
export interface OutboxDraft {
  persist: { hardState?: HardState; entries?: Entry[]; snapshot?: Snapshot };
  messages: RaftMessage[];
  applySnapshot?: Snapshot;
  apply: readonly Entry[];
  proposals: ProposalOutcome[];
  readStates: ReadState[];
  readRejections: ReadRejection[];
  transfers: TransferOutcome[];
  snapshotRequest?: number;
  resetElectionTimer: boolean;
}

/**
 * One step's working copy: `s` starts as a copy of the input state (progress records included), so
 * the helpers may assign to it freely while the caller's state stays untouched.
 */
export interface Draft {
  readonly s: RaftState;
  readonly out: OutboxDraft;
}

export function beginStep(state: RaftState): Draft {
  const progress: RaftState['progress'] = {};
  for (const [id, pr] of Object.entries(state.progress)) progress[id] = { ...pr, inflight: pr.inflight.slice() };
  return {
    s: { ...state, progress, votes: { ...state.votes } },
    out: { persist: {}, messages: [], apply: [], proposals: [], readStates: [], readRejections: [], transfers: [], resetElectionTimer: false },
  };
}

export function finishOutbox(out: OutboxDraft): Outbox {
  return out;
}

export function send(d: Draft, message: RaftMessage): void {
  d.out.messages.push(message);
}

/** Records entries to persist; a later run that starts inside an earlier one replaces its tail, as storage does. */
export function persistEntries(d: Draft, entries: readonly Entry[]): void {
  if (entries.length === 0) return;
  const pending = d.out.persist.entries;
  if (!pending || pending.length === 0) {
    d.out.persist.entries = entries.slice();
    return;
  }
  const firstNew = (entries[0] as Entry).index;
  const firstPending = (pending[0] as Entry).index;
  if (firstNew <= firstPending) {
    d.out.persist.entries = entries.slice();
    return;
  }
  pending.length = Math.min(pending.length, firstNew - firstPending);
  for (const entry of entries) pending.push(entry);
}
