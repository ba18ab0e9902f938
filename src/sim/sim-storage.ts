import type { Entry, HardState, Snapshot } from '../raft/types.ts';
import type { RaftPersistedState, RaftStorage } from '../seams/raft-storage.ts';
import type { SeededRandom } from './seeded-random.ts';
import type { VirtualClock } from './virtual-clock.ts';

export class SimStorageError extends Error {
  constructor(
    readonly code: 'sim_storage_log_gap' | 'sim_storage_bad_batch',
    message: string,
  ) {
    super(message);
    this.name = 'SimStorageError';
  }
}

type WriteOp =
  | { readonly kind: 'hard-state'; readonly hardState: HardState }
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

/** A log as a member sees it: snapshot (maybe) plus the contiguous entries after it. */
export interface StoredLog {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export interface StorageObserver {
  /** Entries were written (not yet durable). `prevTerm` is the term just before the first one. */
  appended?(entries: readonly Entry[], prevTerm: number, truncatedFrom: number | undefined): void;
  /** A hard state became durable (sync completed, or survived a crash as a torn write). */
  durableHardState?(hardState: HardState): void;
}

export interface SimStorageOptions {
  /** Virtual time an fsync takes: uniform in [min, max]. */
  minSyncDelayMs?: number;
  maxSyncDelayMs?: number;
}

const emptyHardState: HardState = { term: 0, votedFor: undefined, commitIndex: 0 };

function cloneLog(log: StoredLog): StoredLog {
  return structuredClone(log);
}

export function lastIndexOf(log: StoredLog): number {
  const last = log.entries[log.entries.length - 1];
  return last ? last.index : (log.snapshot?.lastIncludedIndex ?? 0);
}

/** Term of the entry at `index` in the log, 0 for index 0, undefined when absent or compacted. */
export function termAt(log: StoredLog, index: number): number | undefined {
  if (index === 0) return 0;
  const snapshotIndex = log.snapshot?.lastIncludedIndex ?? 0;
  if (index === snapshotIndex) return log.snapshot?.lastIncludedTerm;
  if (index < snapshotIndex) return undefined;
  return log.entries[index - snapshotIndex - 1]?.term;
}

export function entryAt(log: StoredLog, index: number): Entry | undefined {
  const snapshotIndex = log.snapshot?.lastIncludedIndex ?? 0;
  if (index <= snapshotIndex) return undefined;
  return log.entries[index - snapshotIndex - 1];
}

/**
 * Applies one write to a log image. Returns the index the write truncated from (an append that
 * overwrote existing entries), for the Leader Append-Only check.
 */
function applyOp(log: StoredLog, op: WriteOp): number | undefined {
  switch (op.kind) {
    case 'hard-state':
      log.hardState = op.hardState;
      return undefined;
    case 'snapshot': {
      const snapshot = op.snapshot;
      // An older snapshot than the one held would open a gap before the kept entries; a member
      // never needs it, so it is ignored rather than corrupting the image.
      if (snapshot.lastIncludedIndex < (log.snapshot?.lastIncludedIndex ?? 0)) return undefined;
      // Raft §7: keep the entries after the snapshot only if the log agrees with the snapshot's
      // last entry; otherwise the whole log is superseded.
      const keepsTail = termAt(log, snapshot.lastIncludedIndex) === snapshot.lastIncludedTerm;
      log.entries = keepsTail ? log.entries.filter((e) => e.index > snapshot.lastIncludedIndex) : [];
      log.snapshot = snapshot;
      return undefined;
    }
    case 'append': {
      const snapshotIndex = log.snapshot?.lastIncludedIndex ?? 0;
      const fresh = op.entries.filter((e) => e.index > snapshotIndex);
      const first = fresh[0];
      if (!first) return undefined;
      const lastIndex = lastIndexOf(log);
      if (first.index > lastIndex + 1) {
        throw new SimStorageError('sim_storage_log_gap', `append starts at index ${first.index} but the log ends at ${lastIndex}`);
      }
      const truncatedFrom = first.index <= lastIndex ? first.index : undefined;
      log.entries.length = first.index - snapshotIndex - 1;
      for (const entry of fresh) log.entries.push(entry);
      return truncatedFrom;
    }
  }
}

function validateBatch(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.index !== entries[i - 1]!.index + 1) {
      throw new SimStorageError('sim_storage_bad_batch', `append batch is not contiguous at ${entries[i - 1]!.index} → ${entries[i]!.index}`);
    }
  }
}

interface PendingSync {
  /** How many pending writes this sync covers (everything issued before it was called). */
  upTo: number;
  readonly resolve: () => void;
}

/**
 * The simulator's disk for one member. Writes land in the member's view at once (like the page
 * cache) but become durable only when a later sync() completes, after a small virtual delay.
 * crash() throws away whatever was not durable — optionally keeping a random prefix of it, as a
 * write-ahead log does when power fails mid-batch — and fences the old incarnation so a dead
 * process can never write again. A restarted member loads only what was durable.
 */
export class SimStorage {
  private durable: StoredLog = { hardState: emptyHardState, snapshot: undefined, entries: [] };
  private issued: StoredLog = cloneLog(this.durable);
  private pending: WriteOp[] = [];
  private syncs: PendingSync[] = [];
  private incarnation = 0;
  private lastSyncDoneMs = 0;
  private readonly observers: StorageObserver[] = [];
  private readonly minSyncDelayMs: number;
  private readonly maxSyncDelayMs: number;
  crashes = 0;

  constructor(
    readonly nodeId: string,
    private readonly clock: VirtualClock,
    private readonly random: SeededRandom,
    options: SimStorageOptions = {},
  ) {
    this.minSyncDelayMs = options.minSyncDelayMs ?? 0.2;
    this.maxSyncDelayMs = options.maxSyncDelayMs ?? 2;
  }

  /** A frozen process does not see its fsync complete until it resumes (true ms). */
  pausedUntilMs: () => number = () => 0;

  observe(observer: StorageObserver): void {
    this.observers.push(observer);
  }

  /** What the running member has written (durable or not): the member's own view of its log. */
  view(): Readonly<StoredLog> {
    return this.issued;
  }

  /** What would survive a crash right now. */
  durableView(): Readonly<StoredLog> {
    return this.durable;
  }

  /** The RaftStorage a new incarnation of the member uses. Older handles stop working. */
  open(): RaftStorage {
    const incarnation = ++this.incarnation;
    const alive = (): boolean => incarnation === this.incarnation;
    return {
      load: () => Promise.resolve(alive() ? cloneLog(this.issued) : neverSettles<RaftPersistedState>()),
      setHardState: (hardState) => {
        if (alive()) this.write({ kind: 'hard-state', hardState: structuredClone(hardState) });
      },
      append: (entries) => {
        if (!alive() || entries.length === 0) return;
        validateBatch(entries);
        this.write({ kind: 'append', entries: structuredClone(entries) });
      },
      saveSnapshot: (snapshot) => {
        if (alive()) this.write({ kind: 'snapshot', snapshot: structuredClone(snapshot) });
      },
      sync: () => (alive() ? this.sync() : neverSettles<void>()),
      close: () => Promise.resolve(),
    };
  }

  /**
   * Power loss. Unsynced writes are lost; with `tornWrites`, a random prefix of them survives
   * (records reach the disk in order, the rest is cut off). Pending syncs never complete: the
   * process that awaited them is gone.
   */
  crash(options: { tornWrites?: boolean } = {}): void {
    if (options.tornWrites && this.pending.length > 0) {
      const survivors = this.random.int(0, this.pending.length + 1);
      this.makeDurable(survivors);
    }
    this.pending = [];
    this.syncs = [];
    this.issued = cloneLog(this.durable);
    this.incarnation++;
    this.crashes++;
  }

  /**
   * The disk is replaced by an empty one (a lost volume). Raft does not survive this without a
   * membership change; the simulator offers it to prove the invariant checks notice amnesia.
   */
  wipe(): void {
    this.crash();
    this.durable = { hardState: emptyHardState, snapshot: undefined, entries: [] };
    this.issued = cloneLog(this.durable);
  }

  private write(op: WriteOp): void {
    const prevTerm = op.kind === 'append' ? (termAt(this.issued, op.entries[0]!.index - 1) ?? -1) : 0;
    const truncatedFrom = applyOp(this.issued, op);
    this.pending.push(op);
    if (op.kind === 'append') for (const observer of this.observers) observer.appended?.(op.entries, prevTerm, truncatedFrom);
  }

  private sync(): Promise<void> {
    const incarnation = this.incarnation;
    return new Promise<void>((resolve) => {
      const sync: PendingSync = { upTo: this.pending.length, resolve };
      this.syncs.push(sync);
      // Syncs complete in the order they were issued, like fsyncs on one file.
      const delayMs = this.minSyncDelayMs + this.random.next() * (this.maxSyncDelayMs - this.minSyncDelayMs);
      const doneMs = Math.max(this.clock.nowMs() + delayMs, this.lastSyncDoneMs);
      this.lastSyncDoneMs = doneMs;
      this.clock.setTimeout(() => {
        if (incarnation !== this.incarnation) return;
        this.completeSync(sync);
      }, doneMs - this.clock.nowMs());
    });
  }

  private completeSync(sync: PendingSync): void {
    const resumeAtMs = this.pausedUntilMs();
    if (resumeAtMs > this.clock.nowMs()) {
      const incarnation = this.incarnation;
      this.clock.setTimeout(() => {
        if (incarnation === this.incarnation) this.completeSync(sync);
      }, resumeAtMs - this.clock.nowMs());
      return;
    }
    const position = this.syncs.indexOf(sync);
    if (position < 0) return;
    const done = this.syncs.splice(0, position + 1);
    // Every sync in `done` was issued no later than this one, so this one's coverage includes theirs.
    this.makeDurable(sync.upTo);
    for (const other of this.syncs) other.upTo -= sync.upTo;
    for (const finished of done) finished.resolve();
  }

  private makeDurable(count: number): void {
    const ops = this.pending.splice(0, count);
    for (const op of ops) {
      applyOp(this.durable, op);
      if (op.kind === 'hard-state') for (const observer of this.observers) observer.durableHardState?.(op.hardState);
    }
  }
}

function neverSettles<T>(): Promise<T> {
  return new Promise<T>(() => {});
}
