import type { RaftPersistedState, RaftStorage } from '../seams/raft-storage.ts';
import type { Entry, HardState, Snapshot } from './types.ts';

/**
 * RaftStorage in memory, for tests and single-process experiments. Writes are buffered and become
 * "durable" (visible to the next `load()`) only at `sync()`, like the real thing. `syncCount` lets a
 * test check group commit; `holdSyncs()` keeps syncs pending until released, to check that nothing
 * is sent before its sync completes. `crash()` loses every write no completed sync covered, those
 * of held syncs included.
 */
export class MemoryRaftStorage implements RaftStorage {
  private durable: { hardState: HardState; snapshot: Snapshot | undefined; entries: Entry[] } = {
    hardState: { term: 0, votedFor: undefined, commitIndex: 0 },
    snapshot: undefined,
    entries: [],
  };
  private pending: (() => void)[] = [];
  /** Syncs waiting for `releaseSyncs()`; their writes apply only when released. */
  private held: { resolve: () => void; reject: (error: Error) => void }[] | undefined;
  syncCount = 0;

  async load(): Promise<RaftPersistedState> {
    return { hardState: this.durable.hardState, snapshot: this.durable.snapshot, entries: this.durable.entries.slice() };
  }

  setHardState(hardState: HardState): void {
    this.pending.push(() => {
      this.durable.hardState = hardState;
    });
  }

  append(entries: readonly Entry[]): void {
    const copy = entries.slice();
    this.pending.push(() => {
      const first = copy[0];
      if (!first) return;
      const base = this.durable.snapshot?.lastIncludedIndex ?? 0;
      // Keep entries before the first new index; an overlap truncates (a conflict on the follower).
      this.durable.entries.length = Math.max(0, Math.min(this.durable.entries.length, first.index - base - 1));
      for (const entry of copy) this.durable.entries.push(entry);
    });
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.pending.push(() => {
      const base = this.durable.snapshot?.lastIncludedIndex ?? 0;
      const at = this.durable.entries[snapshot.lastIncludedIndex - base - 1];
      const keepsLog = at !== undefined && at.term === snapshot.lastIncludedTerm;
      this.durable.entries = keepsLog ? this.durable.entries.slice(snapshot.lastIncludedIndex - base) : [];
      this.durable.snapshot = snapshot;
    });
  }

  async sync(): Promise<void> {
    const writes = this.pending;
    this.pending = [];
    const held = this.held;
    if (held) await new Promise<void>((resolve, reject) => held.push({ resolve, reject }));
    for (const write of writes) write();
    this.syncCount++;
  }

  /** Syncs stay pending until `releaseSyncs()`. */
  holdSyncs(): void {
    this.held ??= [];
  }

  releaseSyncs(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const sync of held) sync.resolve();
  }

  /**
   * Simulates a crash: writes not yet synced are lost, including those a held sync was waiting to
   * make durable. Such a sync rejects (it never completed) instead of applying them; holding ends.
   */
  crash(): void {
    this.pending = [];
    const held = this.held ?? [];
    this.held = undefined;
    for (const sync of held) sync.reject(new Error('the storage crashed before this sync completed'));
  }

  /** What survives a crash right now (only synced writes). */
  durableState(): RaftPersistedState {
    return { hardState: this.durable.hardState, snapshot: this.durable.snapshot, entries: this.durable.entries.slice() };
  }

  async close(): Promise<void> {}
}
