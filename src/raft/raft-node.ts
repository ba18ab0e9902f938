import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import type { ClusterState } from '../cluster/state.ts';
import type { Clock } from '../seams/clock.ts';
import type { Random } from '../seams/random.ts';
import type { RaftStorage } from '../seams/raft-storage.ts';
import type { Transport } from '../seams/transport.ts';
import type { RaftMessage } from './messages.ts';
import type { Entry, Membership, NodeId } from './types.ts';

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface RaftNodeOptions {
  readonly id: NodeId;
  /**
   * The membership this member starts with when its storage holds no snapshot (a fresh cluster:
   * give every founding member the same list). Omit it for a member that joins an existing cluster:
   * it then waits, without campaigning, until the leader adds it and replicates to it.
   */
  readonly initialMembership?: Membership;
  readonly storage: RaftStorage;
  readonly transport: Transport<RaftMessage>;
  readonly clock: Clock;
  readonly random: Random;
  /** Base election timeout T; each wait is drawn from [T, 2T). */
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Most entries in one AppendEntries (default 1024). */
  readonly maxEntriesPerAppend?: number;
  /** Most AppendEntries in flight per follower while replicating (default 64). */
  readonly maxInflightAppends?: number;
  /** Compact the log into a snapshot every this many applied entries (default 10000). */
  readonly snapshotEveryEntries?: number;
  /** Pre-vote (default true). */
  readonly preVote?: boolean;
  /** Check-quorum and the leader lease it implies for vote requests (default true). */
  readonly checkQuorum?: boolean;
  /** Called for every applied client request, in log order, on every member. */
  readonly onApply?: (index: number, request: ClientRequest, result: CommandResult) => void;
  /** Sees the role machine's actor system (XState `inspect`); attach only while someone watches. */
  readonly inspect?: (event: InspectionEvent) => void;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: RaftRole;
  readonly term: number;
  readonly votedFor: NodeId | undefined;
  readonly leaderId: NodeId | undefined;
  readonly commitIndex: number;
  /** Last index applied to the ClusterState returned by `state()`. */
  readonly appliedIndex: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Last index covered by the snapshot (entries at or before it are compacted away). */
  readonly snapshotIndex: number;
  /** Effective membership: the latest config entry in the log, committed or not. */
  readonly membership: Membership;
}

export interface RaftNode {
  readonly id: NodeId;
  /** Loads storage, restores the state machine, applies what was committed, starts timers and listening. */
  start(): Promise<void>;
  /**
   * Stops timers and stops listening; pending proposals and reads reject with RaftError
   * 'node_stopped'. Does not close storage or transport: whoever created them closes them.
   */
  stop(): Promise<void>;
  /**
   * Replicates a client request and resolves with its result once committed and applied here.
   * Rejects with NotLeaderError {leaderId?} on a non-leader, RaftError 'leadership_transfer_in_progress'
   * while handing over, 'entry_overwritten' when a new leader replaced the entry (retrying with the
   * same clientId/seq is safe: it applies once).
   */
  propose(request: ClientRequest): Promise<CommandResult>;
  /**
   * Linearizable read barrier (ReadIndex): resolves with an index once this member has confirmed it
   * still leads and has applied up to that index; then read `state()`. NotLeaderError on non-leaders.
   */
  readIndex(): Promise<number>;
  /** The applied state machine (read after `readIndex()` for linearizable reads). */
  state(): ClusterState;
  status(): RaftStatus;
  /** Entries currently held in the in-memory log (after the snapshot), for checks and debugging. */
  entries(fromIndex?: number, toIndexInclusive?: number): readonly Entry[];
  /** Hands leadership to `to` (catch up, TimeoutNow); resolves when `to` is seen leading. */
  transferLeadership(to: NodeId): Promise<void>;
  /** Single-server membership changes; each resolves once its config entry is committed and applied. */
  addLearner(id: NodeId): Promise<void>;
  promoteLearner(id: NodeId): Promise<void>;
  removeMember(id: NodeId): Promise<void>;
  /** The role machine's actor (for `actor.system.inspect(...)` and `actor.subscribe(...)`). */
  readonly actor: AnyActorRef;
}

export function createRaftNode(options: RaftNodeOptions): RaftNode {
  void options;
  throw new Error('createRaftNode: implementation lands in the next commits (API contract only)');
}
