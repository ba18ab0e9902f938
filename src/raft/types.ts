import type { NodeId } from '../seams/transport.ts';

export type { NodeId };

export type EntryType = 'normal' | 'noop' | 'config';

/** One log entry. `data` is an opaque JSON string (a cluster command, or a membership change for 'config'). */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: string;
}

/** Must be durable before a vote or an append reply leaves the node. */
export interface HardState {
  readonly term: number;
  readonly votedFor: NodeId | undefined;
  readonly commitIndex: number;
}

export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface Snapshot {
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly membership: Membership;
  /** The replicated state machine's serialized state at lastIncludedIndex. */
  readonly data: string;
}
