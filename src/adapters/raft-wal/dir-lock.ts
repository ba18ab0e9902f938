import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WalError } from './wal-errors.ts';

const LOCK_FILE = 'LOCK';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process per data directory: two members appending to the same WAL would interleave records
 * and corrupt it. The lock file holds the owner's pid; a lock left by a process that died
 * (SIGKILL, crash) is taken over. The check is per process: within one process the caller must
 * not open a directory twice.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new WalError('WAL_LOCKED', `data directory ${dir} is in use by process ${owner} (${path}); stop it first or give this member its own --data directory`, path);
    }
    // Stale (its owner is gone) or our own: remove it and retry the exclusive create once.
    await rm(path, { force: true });
  }
  throw new WalError('WAL_LOCKED', `could not take the lock ${path}; another process keeps creating it`, path);
}
