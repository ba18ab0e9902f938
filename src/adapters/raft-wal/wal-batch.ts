import { crc32 } from 'node:zlib';

/**
 * Segment layout: SEGMENT_MAGIC, then batches. A batch is everything one flush writes between two
 * fsyncs: [4-byte BATCH_MAGIC][u32 LE body length][u32 LE crc32 of body][u32 LE crc32 of the 12
 * bytes before it][body = records, each framed as in wal-record.ts].
 *
 * Why batches: one flush is one write() of several records, and a power cut may keep any subset
 * of its pages. Checking the batch as a whole makes "this flush reached the disk" a single yes or
 * no, so a lost first page with intact later pages is recognised as the same torn write. The
 * header has its own checksum so a scanner can recognise a later batch's header even when that
 * batch's body is torn: its presence proves that everything before it had been synced.
 */
export const SEGMENT_MAGIC = Buffer.from('CWALSEG2', 'ascii');
/**
 * "CW", a NUL, then the format version (bumped with SEGMENT_MAGIC). The NUL matters: records are
 * JSON, which never holds a raw NUL byte, so no value a client stores can contain a batch header.
 * A forged header inside a torn tail would otherwise make the loader call it corruption and keep
 * the member down (a printable magic plus a matching header CRC takes ~2^32 tries at most, far
 * fewer with the JSON freedom a client has).
 */
const BATCH_MAGIC_BYTES = Buffer.from([0x43, 0x57, 0x00, 0x02]);
const BATCH_MAGIC = BATCH_MAGIC_BYTES.readUInt32LE(0);
export const BATCH_HEADER_BYTES = 16;

export function encodeBatch(records: readonly Buffer[]): Buffer {
  const bodyLength = records.reduce((sum, record) => sum + record.length, 0);
  const batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + bodyLength);
  let at = BATCH_HEADER_BYTES;
  for (const record of records) at += record.copy(batch, at);
  batch.writeUInt32LE(BATCH_MAGIC, 0);
  batch.writeUInt32LE(bodyLength, 4);
  batch.writeUInt32LE(crc32(batch.subarray(BATCH_HEADER_BYTES)), 8);
  batch.writeUInt32LE(crc32(batch.subarray(0, 12)), 12);
  return batch;
}

export type BatchDecode =
  | { readonly ok: true; readonly bodyStart: number; readonly end: number }
  /** `end` is known when the header is intact (the batch's claimed extent, maybe past EOF). */
  | { readonly ok: false; readonly reason: string; readonly end?: number };

function headerIntact(buffer: Buffer, offset: number): boolean {
  return buffer.length - offset >= BATCH_HEADER_BYTES && buffer.readUInt32LE(offset) === BATCH_MAGIC && crc32(buffer.subarray(offset, offset + 12)) === buffer.readUInt32LE(offset + 12);
}

export function decodeBatch(buffer: Buffer, offset: number): BatchDecode {
  if (buffer.length - offset < BATCH_HEADER_BYTES) return { ok: false, reason: 'partial batch header' };
  if (buffer.readUInt32LE(offset) !== BATCH_MAGIC) return { ok: false, reason: 'bad batch magic' };
  if (!headerIntact(buffer, offset)) return { ok: false, reason: 'batch header checksum mismatch' };
  const bodyStart = offset + BATCH_HEADER_BYTES;
  const end = bodyStart + buffer.readUInt32LE(offset + 4);
  if (end > buffer.length) return { ok: false, reason: 'partial batch body', end };
  if (crc32(buffer.subarray(bodyStart, end)) !== buffer.readUInt32LE(offset + 8)) return { ok: false, reason: 'batch checksum mismatch', end };
  return { ok: true, bodyStart, end };
}

/**
 * Offset of the first intact batch header at or after `from`, or -1. Record bodies are JSON, so
 * the magic's NUL byte cannot occur inside one: a match is a real header (or random damage that
 * also matched a 32-bit header checksum).
 */
export function findBatchHeader(buffer: Buffer, from: number): number {
  for (let at = buffer.indexOf(BATCH_MAGIC_BYTES, from); at >= 0; at = buffer.indexOf(BATCH_MAGIC_BYTES, at + 1)) {
    if (headerIntact(buffer, at)) return at;
  }
  return -1;
}
