import { crc32 } from 'node:zlib';
import type { Entry, HardState } from '../../raft/types.ts';

/**
 * On-disk record: [u32 LE payload length][u32 LE crc32 of type byte + payload][u8 type][payload].
 * The payload is UTF-8 JSON. Records travel inside batches (wal-batch.ts), which decide what is
 * torn and what is corrupt; the record's own checksum still catches a writer bug inside a batch.
 */
export const RECORD_HEADER_BYTES = 9;
/** Larger than any record we write (entry batches are split well below this). */
export const MAX_RECORD_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Entry batches are split into records of about this size so one record never gets huge. */
export const TARGET_ENTRIES_RECORD_BYTES = 1024 * 1024;

export const RecordType = {
  entries: 1,
  hardState: 2,
  /** Drops every entry with index >= fromIndex (a follower resolving a conflict). */
  truncate: 3,
  /** A snapshot at (index, term) was taken: entries it covers are dropped, as in saveSnapshot. */
  snapshotMarker: 4,
} as const;

export type WalRecord =
  | { readonly type: 'entries'; readonly entries: Entry[] }
  | { readonly type: 'hard-state'; readonly hardState: HardState }
  | { readonly type: 'truncate'; readonly fromIndex: number }
  | { readonly type: 'snapshot-marker'; readonly index: number; readonly term: number };

function frame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  record.writeUInt32LE(body.length, 0);
  record.writeUInt8(type, 8);
  body.copy(record, RECORD_HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

export function encodeRecord(record: WalRecord): Buffer {
  switch (record.type) {
    case 'entries':
      return frame(RecordType.entries, JSON.stringify(record.entries));
    case 'hard-state':
      // votedFor undefined would vanish in JSON; null keeps the field explicit on disk.
      return frame(RecordType.hardState, JSON.stringify({ term: record.hardState.term, votedFor: record.hardState.votedFor ?? null, commitIndex: record.hardState.commitIndex }));
    case 'truncate':
      return frame(RecordType.truncate, JSON.stringify({ fromIndex: record.fromIndex }));
    case 'snapshot-marker':
      return frame(RecordType.snapshotMarker, JSON.stringify({ index: record.index, term: record.term }));
  }
}

/** Encodes entries as one or more records of bounded size. */
export function encodeEntries(entries: readonly Entry[]): Buffer[] {
  const records: Buffer[] = [];
  let batch: Entry[] = [];
  let batchBytes = 0;
  for (const entry of entries) {
    const approxBytes = entry.data.length + 64;
    if (batch.length > 0 && batchBytes + approxBytes > TARGET_ENTRIES_RECORD_BYTES) {
      records.push(encodeRecord({ type: 'entries', entries: batch }));
      batch = [];
      batchBytes = 0;
    }
    batch.push({ term: entry.term, index: entry.index, type: entry.type, data: entry.data });
    batchBytes += approxBytes;
  }
  if (batch.length > 0) records.push(encodeRecord({ type: 'entries', entries: batch }));
  return records;
}

export type DecodeResult =
  | { readonly ok: true; readonly record: WalRecord; readonly nextOffset: number }
  | { readonly ok: false; readonly reason: string };

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function parsePayload(type: number, json: unknown): WalRecord | string {
  const o = json as Record<string, unknown> | null;
  switch (type) {
    case RecordType.entries: {
      if (!Array.isArray(json) || json.length === 0) return 'entries record is not a non-empty array';
      for (const e of json as Record<string, unknown>[]) {
        if (!e || !isInt(e.term) || !isInt(e.index) || typeof e.data !== 'string' || (e.type !== 'normal' && e.type !== 'noop' && e.type !== 'config')) return 'entries record holds a malformed entry';
      }
      return { type: 'entries', entries: json as Entry[] };
    }
    case RecordType.hardState:
      if (!o || !isInt(o.term) || !isInt(o.commitIndex) || !(o.votedFor === null || typeof o.votedFor === 'string')) return 'hard-state record is malformed';
      return { type: 'hard-state', hardState: { term: o.term, votedFor: o.votedFor ?? undefined, commitIndex: o.commitIndex } };
    case RecordType.truncate:
      if (!o || !isInt(o.fromIndex)) return 'truncate record is malformed';
      return { type: 'truncate', fromIndex: o.fromIndex };
    case RecordType.snapshotMarker:
      if (!o || !isInt(o.index) || !isInt(o.term)) return 'snapshot-marker record is malformed';
      return { type: 'snapshot-marker', index: o.index, term: o.term };
    default:
      return `unknown record type ${type}`;
  }
}

/** Decodes the record at `offset`, or says why the bytes there are not a valid record. */
export function decodeRecord(buffer: Buffer, offset: number): DecodeResult {
  if (buffer.length - offset < RECORD_HEADER_BYTES) return { ok: false, reason: 'partial record header' };
  const length = buffer.readUInt32LE(offset);
  if (length > MAX_RECORD_PAYLOAD_BYTES) return { ok: false, reason: `implausible record length ${length}` };
  const type = buffer.readUInt8(offset + 8);
  if (type < RecordType.entries || type > RecordType.snapshotMarker) return { ok: false, reason: `unknown record type ${type}` };
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > buffer.length) return { ok: false, reason: 'partial record payload' };
  const expected = buffer.readUInt32LE(offset + 4);
  if (crc32(buffer.subarray(offset + 8, end)) !== expected) return { ok: false, reason: 'checksum mismatch' };
  let json: unknown;
  try {
    json = JSON.parse(buffer.toString('utf8', offset + RECORD_HEADER_BYTES, end));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const record = parsePayload(type, json);
  if (typeof record === 'string') return { ok: false, reason: record };
  return { ok: true, record, nextOffset: end };
}
