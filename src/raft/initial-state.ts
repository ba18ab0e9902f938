import type { HardState, Membership, NodeId, Snapshot, Entry } from './types.ts';
import type { RaftConfig, RaftState } from './raft-state.ts';
import { DEFAULT_RAFT_CONFIG } from './raft-state.ts';
import { RaftLog } from './log.ts';
import { noteAppended } from './membership.ts';

export interface InitialStateOptions {
  readonly id: NodeId;
  readonly config?: Partial<RaftConfig>;
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries?: readonly Entry[];
  /** Used when there is no snapshot; a member joining an existing cluster starts with none. */
  readonly initialMembership?: Membership;
}

const NO_MEMBERS: Membership = { voters: [], learners: [] };

/**
 * A member as it wakes up from storage: a follower of no known leader. Everything committed is
 * treated as applied here; the caller replays (snapshot, commitIndex] into its state machine itself.
 */
export function createInitialState(options: InitialStateOptions): RaftState {
  const log = RaftLog.restore(options.snapshot, options.entries ?? []);
  const hardState = options.hardState ?? { term: 0, votedFor: undefined, commitIndex: 0 };
  const baseMembership = options.snapshot?.membership ?? options.initialMembership ?? NO_MEMBERS;
  const commitIndex = Math.min(Math.max(hardState.commitIndex, log.snapshotIndex), log.lastIndex);
  const state: RaftState = {
    id: options.id,
    config: { ...DEFAULT_RAFT_CONFIG, ...options.config },
    role: 'follower',
    term: hardState.term,
    votedFor: hardState.votedFor,
    leaderId: undefined,
    leaderContact: false,
    log,
    commitIndex,
    appliedIndex: commitIndex,
    stableIndex: log.lastIndex,
    baseMembership,
    configs: [],
    membership: baseMembership,
    votes: {},
    progress: {},
    termStartIndex: 0,
    pendingConfigIndex: 0,
    leadTransferee: undefined,
    transferRounds: 0,
    readContext: 0,
    pendingReads: [],
    readsAwaitingCommit: [],
    snapshotRequestedAt: 0,
  };
  noteAppended(state, options.entries ?? []);
  return state;
}
