import type { Entry, HardState, Snapshot } from '../raft/types.ts';

/** What a member finds on disk when it starts. */
export interface RaftPersistedState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous by index. */
  entries: Entry[];
}

/**
 * Durable Raft storage. Writes are buffered until `sync()` resolves; only then may the caller
 * send replies or acknowledge clients (Raft's "persist before you speak"). The simulator's
 * twin loses everything not yet synced when a node crashes.
 */
export interface RaftStorage {
  load(): Promise<RaftPersistedState>;
  setHardState(hardState: HardState): void;
  /** Appends entries; an entry whose index already exists truncates the log from there first. */
  append(entries: readonly Entry[]): void;
  /**
   * Replaces the snapshot and drops log entries covered by it. Raft's rule (Figure 13): if the log
   * holds an entry at `lastIncludedIndex` with `lastIncludedTerm`, the entries after it stay;
   * otherwise (missing, or a different term) the whole log is discarded, because entries after a
   * mismatching point belong to another history.
   */
  saveSnapshot(snapshot: Snapshot): void;
  /** Makes every write issued so far durable (one fsync for the whole batch: group commit). */
  sync(): Promise<void>;
  close(): Promise<void>;
}
