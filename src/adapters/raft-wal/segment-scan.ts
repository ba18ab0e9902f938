import { WalError } from './wal-errors.ts';
import { decodeBatch, findBatchHeader, SEGMENT_MAGIC } from './wal-batch.ts';
import { decodeRecord, type WalRecord } from './wal-record.ts';

export interface SegmentScan {
  readonly records: WalRecord[];
  /** Bytes of valid batches from the start; a torn tail begins here. */
  readonly validBytes: number;
  /** Why the tail was cut, when it was. */
  readonly tornReason?: string;
}

const RESTORE = 'Refusing to start rather than replaying past damaged data: restore this member from a peer (wipe its data directory and rejoin) or from a backup.';

function corrupt(file: string, offset: number, why: string): WalError {
  return new WalError('WAL_CORRUPT_RECORD', `corrupt WAL batch in ${file} at byte offset ${offset} (${why}). ${RESTORE}`, file, offset);
}

function allZero(buffer: Buffer, from: number): boolean {
  for (let at = from; at < buffer.length; at++) if (buffer[at] !== 0) return false;
  return true;
}

/**
 * Decides what a damaged batch at `offset` is. The writer starts a batch only after the previous
 * batch's fdatasync completed (group commit runs one flush at a time), so at most one batch in the
 * whole WAL is unsynced, and it is the last thing written. Hence:
 * - in an older segment, damage is always corruption (a segment is complete before the next one
 *   is created);
 * - an intact batch header anywhere after it proves a later write, so this batch was synced:
 *   corruption;
 * - when its own header is intact, non-zero bytes after its claimed end prove the same;
 * - otherwise it is the unsynced last write, torn in any pattern: cut it.
 * Not detectable: the last synced batch rotting when the only thing after it is a torn write
 * whose header was lost too (or nothing at all) — it looks exactly like one torn write.
 */
function damaged(buffer: Buffer, file: string, isLastSegment: boolean, records: WalRecord[], offset: number, reason: string, end: number | undefined): SegmentScan {
  if (!isLastSegment) throw corrupt(file, offset, `${reason}; this is not the last segment, and every batch in it was synced before the next segment was created`);
  const later = findBatchHeader(buffer, offset + 1);
  if (later >= 0) throw corrupt(file, offset, `${reason}, followed by valid records: a batch starts at byte offset ${later}, and a batch is written only after the previous one was synced, so this one had been acknowledged`);
  if (end !== undefined && end < buffer.length && !allZero(buffer, end)) throw corrupt(file, offset, `${reason}, followed by data after its end at byte offset ${end}, so it had been synced before that was written`);
  // The magic and the segment's first batch go out in one write: without that batch, cut both.
  return { records, validBytes: offset === SEGMENT_MAGIC.length ? 0 : offset, tornReason: reason };
}

/** Records of one checksummed batch body; a bad record here is a writer bug or a checksum collision. */
function batchRecords(buffer: Buffer, file: string, bodyStart: number, end: number, into: WalRecord[]): void {
  const body = buffer.subarray(bodyStart, end);
  let at = 0;
  while (at < body.length) {
    const result = decodeRecord(body, at);
    if (!result.ok) throw corrupt(file, bodyStart + at, `${result.reason} in a record inside a batch whose checksum matches`);
    into.push(result.record);
    at = result.nextOffset;
  }
}

/**
 * Reads the batches of one segment. A torn unsynced last write is cut (the caller truncates the
 * file at `validBytes`); damage to anything that had been synced fails with the file and offset.
 */
export function scanSegment(buffer: Buffer, file: string, isLastSegment: boolean): SegmentScan {
  const records: WalRecord[] = [];
  if (buffer.length === 0) {
    // A new segment is written and synced before the next one is created, so only the last can be empty.
    if (!isLastSegment) throw corrupt(file, 0, 'empty file');
    return { records, validBytes: 0 };
  }
  if (buffer.length < SEGMENT_MAGIC.length || !buffer.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
    if (decodeRecord(buffer, 0).ok) {
      throw new WalError('WAL_FORMAT_UNSUPPORTED', `${file} is a WAL segment in the format before version 2 (records without batch framing), which this version does not read. Wipe the data directory and let the member rejoin from its peers.`, file, 0);
    }
    // The magic goes out in the segment's first write; it is judged like the batch it precedes.
    return damaged(buffer, file, isLastSegment, records, 0, 'bad segment magic', undefined);
  }
  let offset = SEGMENT_MAGIC.length;
  while (offset < buffer.length) {
    const batch = decodeBatch(buffer, offset);
    if (!batch.ok) return damaged(buffer, file, isLastSegment, records, offset, batch.reason, batch.end);
    batchRecords(buffer, file, batch.bodyStart, batch.end, records);
    offset = batch.end;
  }
  return { records, validBytes: offset };
}
