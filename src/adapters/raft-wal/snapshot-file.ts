import { crc32 } from 'node:zlib';
import { open, readFile, rename } from 'node:fs/promises';
import type { Snapshot } from '../../raft/types.ts';
import { WalError } from './wal-errors.ts';
import type { WalSyncHooks } from './sync-hooks.ts';

/** First line: "CSNAP1 <crc32 hex> <byte length>", then the JSON body. */
const MAGIC = 'CSNAP1';

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const body = Buffer.from(JSON.stringify(snapshot), 'utf8');
  const header = Buffer.from(`${MAGIC} ${crc32(body).toString(16).padStart(8, '0')} ${body.length}\n`, 'utf8');
  return Buffer.concat([header, body]);
}

export function decodeSnapshot(buffer: Buffer, file: string): Snapshot {
  const newline = buffer.indexOf(0x0a);
  const header = newline < 0 ? '' : buffer.toString('utf8', 0, newline);
  const match = /^CSNAP1 ([0-9a-f]{8}) (\d+)$/.exec(header);
  const fail = (why: string): never => {
    throw new WalError('WAL_SNAPSHOT_CORRUPT', `snapshot file ${file} is damaged (${why}); refusing to start. Restore this member from a peer (wipe its data directory and rejoin).`, file, 0);
  };
  if (!match) return fail('bad header');
  const body = buffer.subarray(newline + 1);
  if (body.length !== Number(match[2])) return fail(`expected ${match[2]} bytes, found ${body.length}`);
  if (crc32(body) !== parseInt(match[1]!, 16)) return fail('checksum mismatch');
  const snapshot = JSON.parse(body.toString('utf8')) as Snapshot;
  if (!Number.isSafeInteger(snapshot.lastIncludedIndex) || !Number.isSafeInteger(snapshot.lastIncludedTerm) || typeof snapshot.data !== 'string' || !snapshot.membership) return fail('malformed content');
  return snapshot;
}

/**
 * tmp + fsync + rename + fsync dir: a crash leaves either the old or the new snapshot, whole. The
 * file fsync comes before the rename, or a power cut could keep the new name with no data in it;
 * the directory fsync makes the rename itself durable before the caller drops covered entries.
 */
export async function writeSnapshotAtomically(dir: string, file: string, snapshot: Snapshot, hooks: WalSyncHooks): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(encodeSnapshot(snapshot));
    await hooks.fsyncFile(handle, tmp);
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await hooks.fsyncDirectory(dir);
}

export async function readSnapshotFile(file: string): Promise<Snapshot | undefined> {
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return decodeSnapshot(buffer, file);
}
