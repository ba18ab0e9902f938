// A missing or misplaced fsync is invisible to anything a test can read back (the page cache
// survives SIGKILL), so these tests watch the sync calls through the WAL's sync hooks and check
// their order against writes, renames and acknowledgements.
import { existsSync, fstatSync, readFileSync } from 'node:fs';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSnapshot } from '../../../src/adapters/raft-wal/snapshot-file.ts';
import { realSyncHooks, type WalSyncHooks } from '../../../src/adapters/raft-wal/sync-hooks.ts';
import type { Snapshot } from '../../../src/raft/types.ts';
import { entry, openWal, range, segmentPaths, TempDirs } from './fixtures/wal-files.ts';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

/** Resolves a macrotask later: a hook that awaits it completes after anything its caller runs without awaiting it. */
const later = () => new Promise<void>((resolve) => setImmediate(resolve));

const snapshotAt = (index: number, data: string): Snapshot => ({ lastIncludedIndex: index, lastIncludedTerm: 1, membership: { voters: ['n1'], learners: [] }, data });

/**
 * Records batch writes and fdatasyncs as they happen. Each write notes how many fdatasyncs are in
 * flight at that moment; each fdatasync notes the file's size when it starts and ends a macrotask
 * late, so a sync() that did not await it resolves first — the order shows what a wait could not.
 */
function recordWritesAndSyncs(events: string[]): Partial<WalSyncHooks> {
  let inFlight = 0;
  return {
    write: (fd, bytes, file) => {
      realSyncHooks.write(fd, bytes, file);
      events.push(`write ${bytes.length} (fdatasyncs in flight: ${inFlight})`);
    },
    datasync: async (fd, file) => {
      inFlight++;
      events.push(`datasync from size ${fstatSync(fd).size} of ${basename(file)}`);
      try {
        await later();
        await realSyncHooks.datasync(fd, file);
      } finally {
        inFlight--;
      }
      events.push('datasync done');
    },
  };
}

describe('WAL sync order', () => {
  it('writes the batch, then fdatasyncs it, and only then resolves sync()', async () => {
    const dir = await temp.make();
    const events: string[] = [];
    const { storage } = await openWal({ dir, syncHooks: recordWritesAndSyncs(events) });
    const [segment] = await segmentPaths(dir);
    const before = (await stat(segment!)).size;
    events.length = 0;

    storage.append([entry(1)]);
    await storage.sync().then(() => events.push('resolved'));
    const after = (await stat(segment!)).size;
    expect((await readFile(segment!)).includes('cmd-1')).toBe(true);
    // The whole batch is in the file when its fdatasync starts, and sync() waits for that fdatasync.
    expect(events).toEqual([`write ${after - before} (fdatasyncs in flight: 0)`, `datasync from size ${after} of ${basename(segment!)}`, 'datasync done', 'resolved']);
    await storage.close();
  });

  it('does not write the next batch while the previous fdatasync is in flight (the scanner relies on it)', async () => {
    const dir = await temp.make();
    const events: string[] = [];
    const { storage } = await openWal({ dir, syncHooks: recordWritesAndSyncs(events) });
    const segment = basename((await segmentPaths(dir))[0]!);
    events.length = 0;

    storage.append([entry(1)]);
    const first = storage.sync();
    // Arrives while the first batch's fdatasync runs: group commit must hold it back until then.
    storage.append([entry(2)]);
    const second = storage.sync();
    await Promise.all([first, second]);
    const sizes = events.flatMap((event) => /^datasync from size (\d+)/.exec(event)?.[1] ?? []).map(Number);
    expect(sizes).toHaveLength(2);
    expect(sizes[1]!).toBeGreaterThan(sizes[0]!);
    expect(events.map((event) => event.replace(/^write \d+/, 'write N').replace(/size \d+/, 'size N'))).toEqual([
      'write N (fdatasyncs in flight: 0)', `datasync from size N of ${segment}`, 'datasync done',
      'write N (fdatasyncs in flight: 0)', `datasync from size N of ${segment}`, 'datasync done',
    ]);
    await storage.close();
  });

  it('snapshot: writes the tmp file, fsyncs it, renames it, fsyncs the directory, then writes the marker', async () => {
    const dir = await temp.make();
    const file = join(dir, 'snapshot.bin');
    const tmp = `${file}.tmp`;
    const events: string[] = [];
    const describeFile = (path: string): string => (existsSync(path) ? readFileSync(path).toString('utf8') : 'absent');
    const syncHooks: Partial<WalSyncHooks> = {
      fsyncFile: async (handle, path) => {
        events.push(`fsyncFile ${basename(path)} tmp=${describeFile(tmp)} final=${describeFile(file)}`);
        return realSyncHooks.fsyncFile(handle, path);
      },
      fsyncDirectory: async (path) => {
        events.push(`fsyncDirectory tmp=${describeFile(tmp)} final=${describeFile(file)}`);
        return realSyncHooks.fsyncDirectory(path);
      },
      datasync: async (fd, path) => {
        events.push(`datasync ${basename(path)} marker=${readFileSync(path).includes('"index":2,"term":1') ? 'yes' : 'no'}`);
        return realSyncHooks.datasync(fd, path);
      },
    };
    const { storage } = await openWal({ dir, syncHooks });
    const segment = basename((await segmentPaths(dir))[0]!);
    storage.append(range(1, 3));
    await storage.sync();

    const older = snapshotAt(1, 'older');
    storage.saveSnapshot(older);
    await storage.sync();
    const newer = snapshotAt(2, 'newer');
    storage.saveSnapshot(newer);
    events.length = 0;
    await storage.sync();
    events.push('resolved');

    const [oldBytes, newBytes] = [encodeSnapshot(older).toString('utf8'), encodeSnapshot(newer).toString('utf8')];
    expect(events).toEqual([
      // The whole new snapshot is in the tmp file when it is fsynced; the old one is still in place.
      `fsyncFile snapshot.bin.tmp tmp=${newBytes} final=${oldBytes}`,
      // Renamed before the directory fsync, which makes the rename durable...
      `fsyncDirectory tmp=absent final=${newBytes}`,
      // ...before the marker that lets the log drop what the snapshot covers is even written.
      `datasync ${segment} marker=yes`,
      'resolved',
    ]);
    await storage.close();
  });

  it('a new segment: its head is synced and the directory fsynced before anything in it is acknowledged', async () => {
    const dir = await temp.make();
    const events: string[] = [];
    const syncHooks: Partial<WalSyncHooks> = {
      datasync: async (fd, path) => {
        events.push(`datasync ${basename(path)}`);
        return realSyncHooks.datasync(fd, path);
      },
      fsyncDirectory: async (path) => {
        events.push('fsyncDirectory');
        return realSyncHooks.fsyncDirectory(path);
      },
    };
    const { storage } = await openWal({ dir, segmentBytes: 1024, syncHooks });
    events.push('loaded');
    for (let index = 1; index <= 15; index++) {
      storage.append([entry(index, 1, `v-${index}-${'z'.repeat(200)}`)]);
      await storage.sync();
      events.push(`acked ${index}`);
    }
    await storage.close();

    const paths = await segmentPaths(dir);
    expect(paths.length).toBeGreaterThanOrEqual(3);
    const contents = await Promise.all(paths.map(async (path) => ({ name: basename(path), bytes: await readFile(path) })));
    // The first segment, created by load(): head synced, directory fsynced, before load() resolves.
    expect(events.slice(0, 3)).toEqual([`datasync ${contents[0]!.name}`, 'fsyncDirectory', 'loaded']);
    for (let index = 1; index <= 15; index++) {
      const holder = contents.find(({ bytes }) => bytes.includes(`v-${index}-`))!.name;
      const firstSyncOfHolder = events.indexOf(`datasync ${holder}`);
      const acked = events.indexOf(`acked ${index}`);
      const directorySynced = events.indexOf('fsyncDirectory', firstSyncOfHolder);
      expect(directorySynced, `segment ${holder} (entry ${index})`).toBeGreaterThan(firstSyncOfHolder);
      expect(directorySynced, `segment ${holder} (entry ${index})`).toBeLessThan(acked);
      // And the entry's own batch was fdatasynced in its segment before the ack.
      expect(events.lastIndexOf(`datasync ${holder}`, acked)).toBeGreaterThan(directorySynced);
    }
  });

  it('load() cuts a torn tail and makes what it returns durable before resolving', async () => {
    const dir = await temp.make();
    const first = await openWal({ dir });
    first.storage.append(range(1, 3));
    await first.storage.sync();
    await first.storage.close();
    const [segment] = await segmentPaths(dir);
    const validBytes = (await stat(segment!)).size;
    await appendFile(segment!, Buffer.from('torn bytes of a write that never finished'));

    const events: string[] = [];
    const syncHooks: Partial<WalSyncHooks> = {
      datasync: async (fd, path) => {
        events.push(`datasync ${basename(path)} size=${fstatSync(fd).size}`);
        return realSyncHooks.datasync(fd, path);
      },
      fsyncDirectory: async (path) => {
        events.push('fsyncDirectory');
        return realSyncHooks.fsyncDirectory(path);
      },
    };
    const { storage, state } = await openWal({ dir, syncHooks });
    events.push('loaded');
    expect(state.entries).toEqual(range(1, 3));
    expect(events).toEqual([`datasync ${basename(segment!)} size=${validBytes}`, 'fsyncDirectory', 'loaded']);
    await storage.close();
  });

  it('a failed fdatasync fails that sync() and every later one', async () => {
    const dir = await temp.make();
    let fail = false;
    const datasync: WalSyncHooks['datasync'] = async (fd, file) => {
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      return realSyncHooks.datasync(fd, file);
    };
    const { storage } = await openWal({ dir, syncHooks: { datasync } });
    fail = true;
    storage.append([entry(1)]);
    await expect(storage.sync()).rejects.toMatchObject({ code: 'EIO' });
    fail = false;
    storage.append([entry(2)]);
    await expect(storage.sync()).rejects.toMatchObject({ code: 'WAL_SYNC_FAILED' });
    await storage.close().catch(() => undefined);
  });
});
