import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/types.ts';
import { SeededRandom } from '../../../src/sim/seeded-random.ts';
import { SimStorage } from '../../../src/sim/sim-storage.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';

const entry = (index: number, term: number, data = `e${index}t${term}`): Entry => ({ index, term, type: 'normal', data });

function setup() {
  const clock = new VirtualClock();
  const storage = new SimStorage('n1', clock, new SeededRandom(3).fork('disk'), { minSyncDelayMs: 1, maxSyncDelayMs: 1 });
  return { clock, storage };
}

describe('SimStorage', () => {
  it('makes writes durable only when sync completes, after a virtual delay', async () => {
    const { clock, storage } = setup();
    const disk = storage.open();
    disk.setHardState({ term: 2, votedFor: 'n1', commitIndex: 0 });
    disk.append([entry(1, 1), entry(2, 2)]);
    expect(storage.view().entries).toHaveLength(2);
    expect(storage.durableView().entries).toHaveLength(0);
    let synced = false;
    void disk.sync().then(() => (synced = true));
    await clock.advance(0.5);
    expect(synced).toBe(false);
    await clock.advance(1);
    expect(synced).toBe(true);
    expect(storage.durableView().entries.map((e) => e.index)).toEqual([1, 2]);
    expect(storage.durableView().hardState.term).toBe(2);
  });

  it('loses unsynced writes on crash and a restart loads only what was synced', async () => {
    const { clock, storage } = setup();
    const first = storage.open();
    first.append([entry(1, 1)]);
    await Promise.all([first.sync(), clock.advance(5)]);
    first.append([entry(2, 1)]);
    first.setHardState({ term: 5, votedFor: 'n2', commitIndex: 1 });
    let lateSync = false;
    void first.sync().then(() => (lateSync = true));
    storage.crash();
    await clock.advance(10);
    expect(lateSync).toBe(false);
    const second = storage.open();
    const loaded = await second.load();
    expect(loaded.entries.map((e) => e.index)).toEqual([1]);
    expect(loaded.hardState.term).toBe(0);
  });

  it('fences a crashed incarnation: its late writes go nowhere', async () => {
    const { clock, storage } = setup();
    const old = storage.open();
    storage.crash();
    const fresh = storage.open();
    old.append([entry(1, 9)]);
    void old.sync();
    fresh.append([entry(1, 1)]);
    await Promise.all([fresh.sync(), clock.advance(5)]);
    expect(storage.durableView().entries).toEqual([entry(1, 1)]);
  });

  it('keeps a prefix of the unsynced writes on a torn crash', () => {
    const survivors = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const clock = new VirtualClock();
      const storage = new SimStorage('n1', clock, new SeededRandom(seed));
      const disk = storage.open();
      for (let i = 1; i <= 5; i++) disk.append([entry(i, 1)]);
      storage.crash({ tornWrites: true });
      const kept = storage.durableView().entries.map((e) => e.index);
      expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => i + 1));
      survivors.add(kept.length);
    }
    expect(survivors.size).toBeGreaterThan(3);
  });

  it('truncates conflicting entries on append and refuses gaps', () => {
    const { storage } = setup();
    const truncations: (number | undefined)[] = [];
    storage.observe({ appended: (_entries, _prevTerm, truncatedFrom) => truncations.push(truncatedFrom) });
    const disk = storage.open();
    disk.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    disk.append([entry(2, 2)]);
    expect(storage.view().entries.map((e) => `${e.index}:${e.term}`)).toEqual(['1:1', '2:2']);
    expect(truncations).toEqual([undefined, 2]);
    expect(() => disk.append([entry(9, 2)])).toThrow(/log ends at 2/);
    expect(() => disk.append([entry(3, 2), entry(5, 2)])).toThrow(/not contiguous/);
  });

  it('compacts into a snapshot, keeping the tail only when it agrees with the snapshot', () => {
    const { storage } = setup();
    const disk = storage.open();
    disk.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
    disk.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1, membership: { voters: ['n1'], learners: [] }, data: '{}' });
    expect(storage.view().entries.map((e) => e.index)).toEqual([3, 4]);
    disk.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 7, membership: { voters: ['n1'], learners: [] }, data: '{}' });
    expect(storage.view().entries).toEqual([]);
    disk.append([entry(4, 7)]);
    expect(storage.view().entries.map((e) => e.index)).toEqual([4]);
  });

  it('reports hard states as they become durable, in order', async () => {
    const { clock, storage } = setup();
    const seen: number[] = [];
    storage.observe({ durableHardState: (hs) => seen.push(hs.term) });
    const disk = storage.open();
    disk.setHardState({ term: 1, votedFor: undefined, commitIndex: 0 });
    const s1 = disk.sync();
    disk.setHardState({ term: 2, votedFor: undefined, commitIndex: 0 });
    const s2 = disk.sync();
    expect(seen).toEqual([]);
    await Promise.all([s1, s2, clock.advance(5)]);
    expect(seen).toEqual([1, 2]);
  });
});
