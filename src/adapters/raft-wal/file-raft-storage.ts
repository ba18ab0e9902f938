import { mkdir, open, readdir, readFile, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry, HardState, Snapshot } from '../../raft/types.ts';
import type { RaftPersistedState, RaftStorage } from '../../seams/raft-storage.ts';
import { lockDirectory } from './dir-lock.ts';
import { GroupCommit } from './group-commit.ts';
import { entriesAfterSnapshot, initialHardState, ReplayedLog } from './log-replay.ts';
import { scanSegment, type SegmentScan } from './segment-scan.ts';
import { readSnapshotFile, writeSnapshotAtomically } from './snapshot-file.ts';
import { realSyncHooks, type WalSyncHooks } from './sync-hooks.ts';
import { encodeBatch, SEGMENT_MAGIC } from './wal-batch.ts';
import { WalError } from './wal-errors.ts';
import { encodeEntries, encodeRecord } from './wal-record.ts';

export interface FileRaftStorageOptions {
  /** Directory owned by this member; created when missing. */
  readonly dir: string;
  /** A new segment starts once the current one reaches this size. */
  readonly segmentBytes?: number;
  /** Replaces some of the real fsync calls (tests observe their order); the rest stay real. */
  readonly syncHooks?: Partial<WalSyncHooks>;
}

/** What `load()` found and repaired; a member logs it. */
export interface WalLoadReport {
  readonly segments: number;
  readonly tornTail?: { readonly file: string; readonly offset: number; readonly bytesDropped: number; readonly reason: string };
}

interface Segment {
  readonly seq: number;
  readonly path: string;
  /** Highest entry index written into this segment (0 when none): decides when it can go. */
  maxIndex: number;
}

const SEGMENT_SUFFIX = '.wal';
const SNAPSHOT_FILE = 'snapshot.bin';
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

const segmentName = (seq: number): string => `${String(seq).padStart(16, '0')}${SEGMENT_SUFFIX}`;

/**
 * RaftStorage on files: a write-ahead log in segment files, plus one snapshot file. Writes are
 * buffered in memory until `sync()`, which writes them as one checksummed batch and fsyncs once
 * for every caller waiting (group commit). Each segment begins with the current hard state, so a
 * prefix of old segments can be deleted once a snapshot covers their entries.
 *
 * Invariant the loader relies on (segment-scan.ts): a batch is written only after the previous
 * batch's fdatasync completed, so at most one unsynced batch exists and it is the last one. The
 * GroupCommit runs one flush at a time and a flush returns only after its fdatasync; do not
 * pipeline writes without changing how the scanner tells a torn write from corruption.
 */
export class FileRaftStorage implements RaftStorage {
  readonly dir: string;
  private readonly segmentBytes: number;
  private readonly snapshotPath: string;
  private readonly hooks: WalSyncHooks;

  private state: 'new' | 'loaded' | 'closed' = 'new';
  private segments: Segment[] = [];
  private current: FileHandle | undefined;
  private currentBytes = 0;

  /** Terms of the entries after the snapshot: index i has term terms[i - snapshotIndex - 1]. */
  private terms: number[] = [];
  private snapshotIndex = 0;
  private snapshotTerm = 0;
  private hardState: HardState = initialHardState;
  private writtenHardState: HardState = initialHardState;

  private pending: Buffer[] = [];
  private pendingMaxIndex = 0;
  private pendingHardState: HardState | undefined;
  private pendingSnapshot: Snapshot | undefined;
  private readonly commit = new GroupCommit(() => this.flush(), () => this.hasPendingWrites());

  private unlock: (() => Promise<void>) | undefined;

  loadReport: WalLoadReport | undefined;
  /** Number of flushes (write + fsync) so far: shows how well group commit batches. */
  fsyncCount = 0;

  constructor(options: FileRaftStorageOptions) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.snapshotPath = join(this.dir, SNAPSHOT_FILE);
    this.hooks = { ...realSyncHooks, ...options.syncHooks };
  }

  async load(): Promise<RaftPersistedState> {
    if (this.state !== 'new') throw new WalError('WAL_NOT_LOADED', `storage in ${this.dir} was already loaded or closed; create a new FileRaftStorage`);
    await mkdir(this.dir, { recursive: true });
    this.unlock = await lockDirectory(this.dir);
    try {
      return await this.loadLocked();
    } catch (error) {
      await this.current?.close();
      this.current = undefined;
      await this.unlock();
      this.unlock = undefined;
      throw error;
    }
  }

  private async loadLocked(): Promise<RaftPersistedState> {
    await rm(`${this.snapshotPath}.tmp`, { force: true });
    const snapshot = await readSnapshotFile(this.snapshotPath);

    const names = (await readdir(this.dir)).filter((name) => /^\d{16}\.wal$/.test(name)).sort();
    const log = new ReplayedLog();
    let last: { readonly path: string; readonly scan: SegmentScan; readonly size: number } | undefined;
    for (const [i, name] of names.entries()) {
      const path = join(this.dir, name);
      const buffer = await readFile(path);
      // Only the last segment can come back with a torn tail; damage elsewhere throws.
      const scan = scanSegment(buffer, path, i === names.length - 1);
      let maxIndex = 0;
      for (const record of scan.records) {
        log.apply(record);
        if (record.type === 'entries') maxIndex = Math.max(maxIndex, record.entries[record.entries.length - 1]!.index);
      }
      this.segments.push({ seq: Number(name.slice(0, 16)), path, maxIndex });
      last = { path, scan, size: buffer.length };
    }
    log.finish(snapshot, this.dir);

    this.snapshotIndex = snapshot?.lastIncludedIndex ?? 0;
    this.snapshotTerm = snapshot?.lastIncludedTerm ?? 0;
    this.terms = log.entries.map((entry) => entry.term);
    this.hardState = log.hardState;
    this.writtenHardState = log.hardState;

    let tornTail: WalLoadReport['tornTail'];
    if (last) {
      const { path, scan, size } = last;
      if (scan.validBytes < size) tornTail = { file: path, offset: scan.validBytes, bytesDropped: size - scan.validBytes, reason: scan.tornReason ?? 'torn write' };
      await this.reopenLastSegment(path, scan.validBytes, size);
    } else {
      await this.startSegment(1);
    }
    this.loadReport = { segments: this.segments.length, ...(tornTail ? { tornTail } : {}) };
    this.state = 'loaded';
    return { hardState: log.hardState, snapshot, entries: log.entries };
  }

  setHardState(hardState: HardState): void {
    this.assertLoaded();
    this.hardState = { term: hardState.term, votedFor: hardState.votedFor, commitIndex: hardState.commitIndex };
    this.pendingHardState = this.hardState;
  }

  append(entries: readonly Entry[]): void {
    this.assertLoaded();
    // Entries a snapshot already covers carry nothing new.
    const fresh = entries[0] && entries[0].index <= this.snapshotIndex ? entries.filter((entry) => entry.index > this.snapshotIndex) : entries;
    const first = fresh[0];
    if (!first) return;
    for (let i = 1; i < fresh.length; i++) {
      if (fresh[i]!.index !== fresh[i - 1]!.index + 1) throw new WalError('WAL_APPEND_GAP', `append got non-contiguous entries (${fresh[i - 1]!.index} then ${fresh[i]!.index})`);
    }
    const lastIndex = this.lastIndex();
    if (first.index > lastIndex + 1) throw new WalError('WAL_APPEND_GAP', `append at index ${first.index} would leave a gap after the last index ${lastIndex}`);
    if (first.index <= lastIndex) {
      this.pending.push(encodeRecord({ type: 'truncate', fromIndex: first.index }));
      this.terms.length = first.index - this.snapshotIndex - 1;
    }
    for (const entry of fresh) this.terms.push(entry.term);
    for (const record of encodeEntries(fresh)) this.pending.push(record);
    this.pendingMaxIndex = Math.max(this.pendingMaxIndex, fresh[fresh.length - 1]!.index);
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.assertLoaded();
    // An older snapshot than the one we hold changes nothing.
    if (snapshot.lastIncludedIndex <= this.snapshotIndex) return;
    const indexed = this.terms.map((term, i) => ({ term, index: this.snapshotIndex + 1 + i }));
    this.terms = entriesAfterSnapshot(indexed, snapshot.lastIncludedIndex, snapshot.lastIncludedTerm).map((entry) => entry.term);
    this.snapshotIndex = snapshot.lastIncludedIndex;
    this.snapshotTerm = snapshot.lastIncludedTerm;
    this.pendingSnapshot = snapshot;
    this.pending.push(encodeRecord({ type: 'snapshot-marker', index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm }));
  }

  sync(): Promise<void> {
    if (this.state !== 'loaded') return Promise.reject(new WalError(this.state === 'closed' ? 'WAL_CLOSED' : 'WAL_NOT_LOADED', `storage in ${this.dir} is ${this.state === 'closed' ? 'closed' : 'not loaded yet'}`));
    return this.commit.request();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'loaded') {
      try {
        await this.commit.request();
      } finally {
        await this.commit.idle();
        this.state = 'closed';
        await this.current?.close();
        this.current = undefined;
        await this.unlock?.();
        this.unlock = undefined;
      }
    }
    this.state = 'closed';
  }

  /** Last index in the log (the snapshot's when the log after it is empty). */
  lastIndex(): number {
    return this.snapshotIndex + this.terms.length;
  }

  /** Segment files currently on disk, oldest first (for tests and status). */
  segmentFiles(): string[] {
    return this.segments.map((segment) => segment.path);
  }

  private assertLoaded(): void {
    if (this.state !== 'loaded') throw new WalError(this.state === 'closed' ? 'WAL_CLOSED' : 'WAL_NOT_LOADED', `storage in ${this.dir} is ${this.state === 'closed' ? 'closed' : 'not loaded yet: call load() first'}`);
  }

  private hasPendingWrites(): boolean {
    return this.pending.length > 0 || this.pendingHardState !== undefined || this.pendingSnapshot !== undefined;
  }

  private async flush(): Promise<void> {
    const records = this.pending;
    const maxIndex = this.pendingMaxIndex;
    const hardState = this.pendingHardState;
    const snapshot = this.pendingSnapshot;
    this.pending = [];
    this.pendingMaxIndex = 0;
    this.pendingHardState = undefined;
    this.pendingSnapshot = undefined;

    // The snapshot is durable before the marker that drops entries it covers.
    if (snapshot) await writeSnapshotAtomically(this.dir, this.snapshotPath, snapshot, this.hooks);
    if (hardState) records.push(encodeRecord({ type: 'hard-state', hardState }));
    // Everything this flush writes is one batch: the loader judges it whole (torn or intact).
    const batch = encodeBatch(records);
    if (this.currentBytes > 0 && this.currentBytes + batch.length > this.segmentBytes) await this.startSegment(this.segments[this.segments.length - 1]!.seq + 1);
    // The write goes to the page cache synchronously (microseconds for a batch); only the fdatasync
    // runs on the thread pool. Two thread-pool round trips (write, then sync) per flush cost more
    // than the write itself and sat on every commit's critical path.
    const segment = this.segments[this.segments.length - 1]!;
    this.writeAllNow(batch, segment.path);
    await this.hooks.datasync(this.current!.fd, segment.path);
    this.fsyncCount++;
    if (hardState) this.writtenHardState = hardState;
    segment.maxIndex = Math.max(segment.maxIndex, maxIndex);
    if (snapshot) await this.compact(snapshot.lastIncludedIndex);
  }

  private writeAllNow(batch: Buffer, path: string): void {
    this.hooks.write(this.current!.fd, batch, path);
    this.currentBytes += batch.length;
  }

  /** Opens segment `seq`, headed by the current hard state so older segments may be deleted. */
  private async startSegment(seq: number): Promise<void> {
    const path = join(this.dir, segmentName(seq));
    const previous = this.current;
    this.current = await open(path, 'a');
    this.currentBytes = 0;
    this.segments.push({ seq, path, maxIndex: 0 });
    await previous?.close();
    await this.writeSegmentHead(path);
  }

  /**
   * Magic and hard-state batch in one write (the scanner cuts a segment whose first batch is torn
   * back to nothing). The directory fsync makes the new name durable before anything written into
   * the segment is acknowledged: without it a power cut could drop the whole file.
   */
  private async writeSegmentHead(path: string): Promise<void> {
    this.writeAllNow(Buffer.concat([SEGMENT_MAGIC, encodeBatch([encodeRecord({ type: 'hard-state', hardState: this.writtenHardState })])]), path);
    await this.hooks.datasync(this.current!.fd, path);
    await this.hooks.fsyncDirectory(this.dir);
  }

  /**
   * Cuts a torn tail, then makes what load() returns durable before anything builds on it. After a
   * process crash the tail just read may exist only in the page cache, and the member may answer
   * peers from it (a vote, a match index) without writing anything new; the segment may also have
   * been created just before the crash, its name not yet durable.
   */
  private async reopenLastSegment(path: string, validBytes: number, size: number): Promise<void> {
    this.current = await open(path, 'a');
    if (validBytes < size) await this.current.truncate(validBytes);
    this.currentBytes = validBytes;
    // A segment cut back to nothing lost its hard-state head, which compaction relies on.
    if (validBytes === 0) return this.writeSegmentHead(path);
    await this.hooks.datasync(this.current.fd, path);
    await this.hooks.fsyncDirectory(this.dir);
  }

  /**
   * Deletes the oldest segments whose entries the snapshot covers. Only a prefix goes: a later
   * segment may hold a truncate record that undoes entries of an earlier, kept one.
   */
  private async compact(snapshotIndex: number): Promise<void> {
    // Start a fresh segment so the one just written can go at the next snapshot.
    if (this.currentBytes >= Math.min(this.segmentBytes, 4 * 1024 * 1024)) await this.startSegment(this.segments[this.segments.length - 1]!.seq + 1);
    let removable = 0;
    while (removable < this.segments.length - 1 && this.segments[removable]!.maxIndex <= snapshotIndex) removable++;
    if (removable === 0) return;
    const doomed = this.segments.slice(0, removable);
    this.segments = this.segments.slice(removable);
    for (const segment of doomed) await unlink(segment.path);
    await this.hooks.fsyncDirectory(this.dir);
  }
}
