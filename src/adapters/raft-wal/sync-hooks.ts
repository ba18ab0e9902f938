import { fdatasync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * The batch write and the three kinds of flush the WAL depends on for durability. They are a seam so tests can see
 * when each one happens relative to writes, renames and acknowledgements: a missing or misplaced
 * fsync changes nothing a test can read back (the page cache survives SIGKILL), so only the order
 * of calls can show it.
 */
export interface WalSyncHooks {
  /**
   * The write of one batch into a segment, synchronous (it lands in the page cache). A seam so
   * tests can see a write issued while an fdatasync is still in flight, without waiting for it.
   */
  readonly write: (fd: number, bytes: Buffer, file: string) => void;
  /** fdatasync of a segment after a batch was written; the flush resolves only after it. */
  readonly datasync: (fd: number, file: string) => Promise<void>;
  /** fsync of a whole file: the snapshot's temporary file, before it is renamed into place. */
  readonly fsyncFile: (handle: FileHandle, file: string) => Promise<void>;
  /** fsync of a directory, so files created, renamed or removed in it survive a power cut. */
  readonly fsyncDirectory: (dir: string) => Promise<void>;
}

export const realSyncHooks: WalSyncHooks = {
  write: (fd, bytes) => {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  },
  // The callback form: FileHandle.datasync() would need the handle, and the hot path holds an fd.
  datasync: (fd) => new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve()))),
  fsyncFile: (handle) => handle.sync(),
  fsyncDirectory: async (dir) => {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
