import type { Entry, HardState, Snapshot } from '../../raft/types.ts';
import { WalError } from './wal-errors.ts';
import type { WalRecord } from './wal-record.ts';

export const initialHardState: HardState = { term: 0, votedFor: undefined, commitIndex: 0 };

/**
 * The in-memory log the WAL records describe, rebuilt in order. Kept separate from file I/O so
 * the replay rules are easy to read and test.
 */
export class ReplayedLog {
  hardState: HardState = initialHardState;
  entries: Entry[] = [];

  get firstIndex(): number {
    return this.entries[0]?.index ?? 0;
  }

  get lastIndex(): number {
    return this.entries[this.entries.length - 1]?.index ?? 0;
  }

  apply(record: WalRecord): void {
    switch (record.type) {
      case 'hard-state':
        this.hardState = record.hardState;
        return;
      case 'truncate':
        this.truncateFrom(record.fromIndex);
        return;
      case 'snapshot-marker':
        this.compactTo(record.index, record.term);
        return;
      case 'entries': {
        const first = record.entries[0];
        if (!first) return;
        // A gap is legal only after a snapshot replaced the log; `finish` checks that the
        // result is contiguous after the snapshot, so a real hole is still reported.
        if (this.entries.length > 0 && first.index > this.lastIndex + 1) this.entries = [];
        this.truncateFrom(first.index);
        for (const entry of record.entries) this.entries.push(entry);
        return;
      }
    }
  }

  truncateFrom(fromIndex: number): void {
    if (this.entries.length === 0 || fromIndex > this.lastIndex) return;
    if (fromIndex <= this.firstIndex) this.entries = [];
    else this.entries.length = fromIndex - this.firstIndex;
  }

  /**
   * Raft's rule for a snapshot: if the log holds the snapshot's last entry with the same term,
   * the entries after it stay; otherwise the whole log is superseded.
   */
  compactTo(index: number, term: number): void {
    this.entries = entriesAfterSnapshot(this.entries, index, term);
  }

  /** Applies the snapshot file's rule and checks the log is contiguous after it. */
  finish(snapshot: Snapshot | undefined, where: string): void {
    if (snapshot) this.compactTo(snapshot.lastIncludedIndex, snapshot.lastIncludedTerm);
    const expectedFirst = (snapshot?.lastIncludedIndex ?? 0) + 1;
    if (this.entries.length > 0 && this.firstIndex !== expectedFirst) {
      throw new WalError('WAL_LOG_GAP', `the log in ${where} starts at index ${this.firstIndex} but the ${snapshot ? `snapshot ends at ${snapshot.lastIncludedIndex}` : 'log has no snapshot'}; a segment is missing. Refusing to start.`, where);
    }
    for (let i = 1; i < this.entries.length; i++) {
      if (this.entries[i]!.index !== this.entries[i - 1]!.index + 1) {
        throw new WalError('WAL_LOG_GAP', `the log in ${where} jumps from index ${this.entries[i - 1]!.index} to ${this.entries[i]!.index}. Refusing to start.`, where);
      }
    }
  }
}

/**
 * Raft's rule for installing a snapshot at (index, term): when the log holds that entry with the
 * same term, the entries after it stay; when it holds it with another term, or ends before it,
 * the whole log is superseded. A log that starts right after the snapshot stays as it is.
 */
export function entriesAfterSnapshot<E extends { readonly index: number; readonly term: number }>(entries: E[], index: number, term: number): E[] {
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (!first || !last) return entries;
  if (index < first.index) return entries;
  if (index > last.index) return [];
  const covered = entries[index - first.index]!;
  return covered.term === term ? entries.slice(index - first.index + 1) : [];
}
