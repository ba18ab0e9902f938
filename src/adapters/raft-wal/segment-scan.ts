import { WalError } from './wal-errors.ts';
import { decodeRecord, type WalRecord } from './wal-record.ts';

export interface SegmentScan {
  readonly records: WalRecord[];
  /** Bytes of valid records from the start; a torn tail begins here. */
  readonly validBytes: number;
  /** Why the tail was cut, when it was. */
  readonly tornReason?: string;
}

/** True when some valid record starts anywhere at or after `from`. */
function validRecordFollows(buffer: Buffer, from: number): boolean {
  for (let offset = from; offset < buffer.length; offset++) {
    if (decodeRecord(buffer, offset).ok) return true;
  }
  return false;
}

/**
 * Reads the records of one segment. A bad record with nothing valid after it, at the end of the
 * last segment, is a write that was torn by a crash before it was acknowledged: the scan stops
 * there and the caller truncates it. Anything else that is damaged — in an older segment, or a
 * bad record followed by good ones — means acknowledged data was lost or altered, so loading
 * fails with the file and offset rather than replaying around the hole.
 */
export function scanSegment(buffer: Buffer, file: string, isLastSegment: boolean): SegmentScan {
  const records: WalRecord[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const result = decodeRecord(buffer, offset);
    if (result.ok) {
      records.push(result.record);
      offset = result.nextOffset;
      continue;
    }
    if (!isLastSegment) {
      throw new WalError('WAL_CORRUPT_RECORD', `corrupt WAL record in ${file} at byte offset ${offset} (${result.reason}); this is not the last segment, so acknowledged data is damaged. Refusing to start: restore this member from a peer (wipe its data directory and rejoin) or from a backup.`, file, offset);
    }
    if (validRecordFollows(buffer, offset + 1)) {
      throw new WalError('WAL_CORRUPT_RECORD', `corrupt WAL record in ${file} at byte offset ${offset} (${result.reason}) followed by valid records; refusing to start rather than replaying past damaged data. Restore this member from a peer (wipe its data directory and rejoin) or from a backup.`, file, offset);
    }
    return { records, validBytes: offset, tornReason: result.reason };
  }
  return { records, validBytes: offset };
}
