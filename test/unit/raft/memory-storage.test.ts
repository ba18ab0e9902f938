import { describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../../src/raft/memory-storage.ts';
import type { Entry } from '../../../src/raft/types.ts';

const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: `${index}@${term}` });

describe('MemoryRaftStorage', () => {
  it('makes writes durable only when a sync completes; a held sync completes on release', async () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1)]);
    expect((await storage.load()).entries).toEqual([]);
    await storage.sync();
    expect(storage.durableState().entries).toEqual([entry(1, 1)]);

    storage.holdSyncs();
    storage.append([entry(2, 1)]);
    let synced = false;
    const held = storage.sync().then(() => (synced = true));
    await Promise.resolve();
    expect(synced).toBe(false);
    expect(storage.durableState().entries).toEqual([entry(1, 1)]);
    storage.releaseSyncs();
    await held;
    expect(storage.durableState().entries).toEqual([entry(1, 1), entry(2, 1)]);
  });

  it('a crash loses the writes of a sync that was still held, and that sync fails', async () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1)]);
    storage.setHardState({ term: 1, votedFor: 'a', commitIndex: 1 });
    await storage.sync();

    storage.holdSyncs();
    storage.append([entry(2, 2)]);
    storage.setHardState({ term: 2, votedFor: 'b', commitIndex: 1 });
    const held = storage.sync();
    storage.append([entry(3, 2)]); // not even handed to a sync
    storage.crash();
    await expect(held).rejects.toThrow(/crashed before this sync completed/);

    const survived = await storage.load();
    expect(survived.entries).toEqual([entry(1, 1)]);
    expect(survived.hardState).toEqual({ term: 1, votedFor: 'a', commitIndex: 1 });
    // Nothing of the lost sync comes back later, either by a release or with the next sync.
    storage.releaseSyncs();
    await storage.sync();
    expect(storage.durableState().entries).toEqual([entry(1, 1)]);
    expect(storage.durableState().hardState.term).toBe(1);

    // The restarted member's own writes work as usual (holding ended with the crash).
    storage.append([entry(2, 3)]);
    await storage.sync();
    expect(storage.durableState().entries).toEqual([entry(1, 1), entry(2, 3)]);
  });
});
