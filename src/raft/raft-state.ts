import type { HardState, Membership, NodeId, Snapshot, Entry } from './types.ts';
import type { RaftMessage } from './messages.ts';
import type { RaftLog } from './log.ts';
import type { RaftErrorCode } from './errors.ts';

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface RaftConfig {
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxEntriesPerAppend: number;
  /** Soft cap on the data carried by one AppendEntries. */
  readonly maxBytesPerAppend: number;
  readonly maxInflightAppends: number;
  /** 0 disables automatic snapshots. */
  readonly snapshotEveryEntries: number;
}

export const DEFAULT_RAFT_CONFIG: RaftConfig = {
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 1024,
  maxBytesPerAppend: 1024 * 1024,
  maxInflightAppends: 64,
  snapshotEveryEntries: 10_000,
};

/**
 * The leader's view of one follower (etcd's Progress):
 * - probe: the match point is unknown; send one append at a time and wait for the answer.
 * - replicate: the follower is in sync; stream appends optimistically, up to a window in flight.
 * - snapshot: an InstallSnapshot is on its way; send nothing else until it is answered.
 */
export interface Progress {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  /** Probe: an append was sent and not yet answered. */
  probeSent: boolean;
  /** Replicate: the last index of every append in flight, oldest first. */
  inflight: number[];
  pendingSnapshot: number;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /** Match at the previous check-quorum round, to notice a stalled pipeline (lost appends). */
  matchAtLastCheck: number;
  /** Consecutive check-quorum rounds with appends or a snapshot outstanding and no progress. */
  stalledChecks: number;
}

export interface PendingRead {
  readonly readId: number;
  readonly index: number;
  readonly context: number;
  readonly acks: readonly NodeId[];
}

export interface ConfigRecord {
  readonly index: number;
  readonly membership: Membership;
}

/**
 * Everything one member knows. The step function never mutates a RaftState it is given: it returns
 * a new one (sharing the log's backing array, see RaftLog).
 */
export interface RaftState {
  readonly id: NodeId;
  readonly config: RaftConfig;
  role: Role;
  term: number;
  votedFor: NodeId | undefined;
  /** The leader of `term` once known (kept as a redirect hint after the lease ends). */
  leaderId: NodeId | undefined;
  /**
   * The leader lease: heard from the leader within the last election timeout T (the machine's
   * fixed-length lease timer clears it). While it holds, pre-votes are refused and, with
   * check-quorum, vote requests are ignored, so a healthy leader is not disrupted. T rather than the
   * randomized timeout, so once the leader dies every follower grants votes to whoever times out first.
   */
  leaderContact: boolean;
  log: RaftLog;
  commitIndex: number;
  /** Everything up to here has been handed out in an outbox to apply. */
  appliedIndex: number;
  /**
   * Last log index known durable on this member's own disk. The leader counts itself towards a
   * quorum only up to here, which lets the driver send AppendEntries while its own fsync runs
   * (Raft thesis §10.2.1) without ever committing an entry that is durable on a minority.
   */
  stableIndex: number;
  /** Membership at the snapshot (or the initial membership when there is none). */
  baseMembership: Membership;
  /** Config entries currently in the log after the snapshot, oldest first. */
  configs: readonly ConfigRecord[];
  /** Effective membership: the newest config entry in the log, committed or not (it takes effect when appended). */
  membership: Membership;
  /** Pre-candidate or candidate: who answered and how. */
  votes: Record<NodeId, boolean>;
  /** Leader only. */
  progress: Record<NodeId, Progress>;
  /** Leader only: index of the no-op this leader appended when elected; nothing is "ready" before it commits. */
  termStartIndex: number;
  /** Leader only: index of the newest config entry it proposed (or the log end when elected). */
  pendingConfigIndex: number;
  leadTransferee: NodeId | undefined;
  /** Check-quorum rounds since the transfer began; the transfer is abandoned after one full election timeout. */
  transferRounds: number;
  /** ReadIndex rounds: the newest heartbeat context sent, and reads waiting for a quorum of acks. */
  readContext: number;
  pendingReads: readonly PendingRead[];
  /** Reads that arrived before this leader committed an entry of its term. */
  readsAwaitingCommit: readonly number[];
  /** An applied index the driver was asked to snapshot at (0 = none outstanding). */
  snapshotRequestedAt: number;
}

export type ConfigChange =
  | { readonly type: 'add-learner'; readonly node: NodeId }
  | { readonly type: 'promote'; readonly node: NodeId }
  /** Voter → learner: it keeps receiving the log but no longer votes or counts towards a quorum. */
  | { readonly type: 'demote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

/** What a step is fed: a message, a client action, or a timer firing. */
export type RaftInput =
  | { readonly type: 'message'; readonly message: RaftMessage }
  | { readonly type: 'propose'; readonly proposalId: number; readonly data: readonly string[] }
  | { readonly type: 'propose-config'; readonly proposalId: number; readonly change: ConfigChange }
  | { readonly type: 'read-index'; readonly readId: number }
  | { readonly type: 'transfer-leadership'; readonly to: NodeId }
  | { readonly type: 'snapshot-taken'; readonly index: number; readonly data: string }
  | { readonly type: 'election-timeout' }
  | { readonly type: 'heartbeat-timeout' }
  | { readonly type: 'check-quorum' }
  | { readonly type: 'lease-expired' }
  /** The driver's sync made the log durable up to this entry. */
  | { readonly type: 'log-synced'; readonly index: number; readonly term: number };

export type ProposalOutcome =
  | { readonly proposalId: number; readonly accepted: true; readonly firstIndex: number; readonly lastIndex: number; readonly term: number }
  | { readonly proposalId: number; readonly accepted: false; readonly code: RaftErrorCode; readonly message: string; readonly leaderId: NodeId | undefined };

export interface ReadState {
  readonly readId: number;
  readonly index: number;
}

export interface ReadRejection {
  readonly readId: number;
  readonly leaderId: NodeId | undefined;
}

export type TransferOutcome =
  | { readonly to: NodeId; readonly status: 'started' }
  | { readonly to: NodeId; readonly status: 'rejected' | 'aborted'; readonly code: RaftErrorCode; readonly message: string; readonly leaderId: NodeId | undefined };

/**
 * What the caller must do after a step, in this order:
 * 1. persist: snapshot, then entries (storage truncates on overlap), then hard state; then sync.
 * 2. send `messages` (only after the sync: a vote or append reply must not outrun its own durability).
 * 3. restore `applySnapshot` into the state machine if present, then apply `apply` in order.
 */
export interface Outbox {
  readonly persist: {
    readonly hardState?: HardState;
    readonly entries?: readonly Entry[];
    readonly snapshot?: Snapshot;
  };
  readonly messages: readonly RaftMessage[];
  readonly applySnapshot?: Snapshot;
  readonly apply: readonly Entry[];
  readonly proposals: readonly ProposalOutcome[];
  readonly readStates: readonly ReadState[];
  readonly readRejections: readonly ReadRejection[];
  readonly transfers: readonly TransferOutcome[];
  /** Serialize the state machine once it has applied this index and feed it back as 'snapshot-taken'. */
  readonly snapshotRequest?: number;
  /** The election timer must restart (heard from the leader, or granted a vote). */
  readonly resetElectionTimer: boolean;
}

export interface StepResult {
  readonly state: RaftState;
  readonly outbox: Outbox;
}

export function isEmptyOutbox(outbox: Outbox): boolean {
  return (
    outbox.persist.hardState === undefined &&
    outbox.persist.entries === undefined &&
    outbox.persist.snapshot === undefined &&
    outbox.messages.length === 0 &&
    outbox.applySnapshot === undefined &&
    outbox.apply.length === 0 &&
    outbox.proposals.length === 0 &&
    outbox.readStates.length === 0 &&
    outbox.readRejections.length === 0 &&
    outbox.transfers.length === 0 &&
    outbox.snapshotRequest === undefined
  );
}
