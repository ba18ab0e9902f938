import type { Entry, Snapshot } from './types.ts';

/**
 * An immutable view of the Raft log: the snapshot (everything up to `snapshotIndex`, compacted) plus
 * the entries after it.
 *
 * Views share one backing array the way Go slices do, so appending to the newest view is amortized
 * O(1) instead of copying the log per step: a view only ever reads `backing[start, start + length)`,
 * and an append writes in place only when nothing lies beyond its end (otherwise it copies first).
 * Older views therefore never see later changes, which keeps the step function pure.
 */
export class RaftLog {
  private constructor(
    private readonly backing: Entry[],
    private readonly start: number,
    private readonly length: number,
    /** The latest snapshot, kept so the leader can send it to followers behind the compacted log. */
    readonly snapshot: Snapshot | undefined,
  ) {}

  static empty(): RaftLog {
    return new RaftLog([], 0, 0, undefined);
  }

  /** A log rebuilt from storage: `entries` must directly follow the snapshot. */
  static restore(snapshot: Snapshot | undefined, entries: readonly Entry[]): RaftLog {
    const snapshotIndex = snapshot?.lastIncludedIndex ?? 0;
    entries.forEach((entry, offset) => {
      if (entry.index !== snapshotIndex + offset + 1) {
        throw new Error(`log is not contiguous: entry ${offset} has index ${entry.index}, expected ${snapshotIndex + offset + 1}`);
      }
    });
    return new RaftLog(entries.slice(), 0, entries.length, snapshot);
  }

  get snapshotIndex(): number {
    return this.snapshot?.lastIncludedIndex ?? 0;
  }

  get snapshotTerm(): number {
    return this.snapshot?.lastIncludedTerm ?? 0;
  }

  /** First index still held as an entry. */
  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.length;
  }

  get lastTerm(): number {
    return this.length === 0 ? this.snapshotTerm : (this.backing[this.start + this.length - 1] as Entry).term;
  }

  /** Term of the entry at `index`, or undefined when compacted away (below the snapshot) or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex) return undefined;
    return (this.backing[this.start + index - this.snapshotIndex - 1] as Entry).term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex) return undefined;
    return this.backing[this.start + index - this.snapshotIndex - 1];
  }

  /**
   * Entries in [from, toInclusive], at most `maxCount` of them and roughly `maxBytes` of data (always
   * at least one entry, so an oversized entry still moves).
   */
  slice(from: number, toInclusive: number = this.lastIndex, maxCount = Number.POSITIVE_INFINITY, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    const first = Math.max(from, this.firstIndex);
    const last = Math.min(toInclusive, this.lastIndex, first + maxCount - 1);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = first; index <= last; index++) {
      const entry = this.backing[this.start + index - this.snapshotIndex - 1] as Entry;
      bytes += entry.data.length + 64;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  /** Last index whose entry has `term`, searching down from `atOrBelow`; 0 when none is held. */
  lastIndexOfTerm(term: number, atOrBelow: number): number {
    for (let index = Math.min(atOrBelow, this.lastIndex); index >= this.snapshotIndex; index--) {
      const entryTerm = this.term(index) as number;
      if (entryTerm === term) return index;
      // Terms only grow along the log, so once below `term` it cannot appear further down.
      if (entryTerm < term) return 0;
    }
    return 0;
  }

  /** First index of the run of entries that share the term at `index` (bounded by the snapshot). */
  firstIndexOfTermAt(index: number): number {
    const term = this.term(index);
    let first = index;
    while (first - 1 > this.snapshotIndex && this.term(first - 1) === term) first--;
    return first;
  }

  /**
   * Appends `entries`, truncating first when the first new index is not past the end (a conflict).
   * Entries must be contiguous and may not reach into the snapshot.
   */
  append(entries: readonly Entry[]): RaftLog {
    if (entries.length === 0) return this;
    const firstNew = (entries[0] as Entry).index;
    if (firstNew <= this.snapshotIndex || firstNew > this.lastIndex + 1) {
      throw new Error(`cannot append at index ${firstNew}: log holds (${this.snapshotIndex}, ${this.lastIndex}]`);
    }
    const keep = firstNew - this.snapshotIndex - 1;
    const end = this.start + keep;
    let backing = this.backing;
    let start = this.start;
    if (end !== backing.length) {
      // Someone (an older or sibling view) owns what lies beyond: copy our kept part instead of overwriting it.
      backing = this.backing.slice(this.start, end);
      start = 0;
    }
    for (const entry of entries) backing.push(entry);
    return new RaftLog(backing, start, keep + entries.length, this.snapshot);
  }

  /**
   * Drops entries covered by `snapshot` (taken locally at an index this log holds with the same term),
   * keeping those after it. Copies the backing array once the dead prefix dominates, so memory stays
   * bounded without copying per step.
   */
  compact(snapshot: Snapshot): RaftLog {
    const index = snapshot.lastIncludedIndex;
    if (index <= this.snapshotIndex) return this;
    if (index > this.lastIndex || this.term(index) !== snapshot.lastIncludedTerm) {
      throw new Error(`cannot compact at ${index}/${snapshot.lastIncludedTerm}: log does not hold that entry`);
    }
    const dropped = index - this.snapshotIndex;
    let start = this.start + dropped;
    const length = this.length - dropped;
    let backing = this.backing;
    if (start > 1024 && start > length) {
      backing = this.backing.slice(start, start + length);
      start = 0;
    }
    return new RaftLog(backing, start, length, snapshot);
  }

  /** Inspection (XState inspect serializes context): a summary, never the whole log. */
  toJSON(): { snapshotIndex: number; lastIndex: number; lastTerm: number } {
    return { snapshotIndex: this.snapshotIndex, lastIndex: this.lastIndex, lastTerm: this.lastTerm };
  }

  /** A log that starts over from an installed snapshot (the entries did not match it). */
  static fromSnapshot(snapshot: Snapshot): RaftLog {
    return new RaftLog([], 0, 0, snapshot);
  }
}
