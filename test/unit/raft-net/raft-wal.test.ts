import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, truncate, writeFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRaftStorage } from '../../../src/adapters/raft-wal/file-raft-storage.ts';
import { WalError } from '../../../src/adapters/raft-wal/wal-errors.ts';
import { BATCH_HEADER_BYTES } from '../../../src/adapters/raft-wal/wal-batch.ts';
import type { Entry, Snapshot } from '../../../src/raft/types.ts';
import { batchExtents } from './fixtures/wal-files.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raft-wal-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const entry = (index: number, term = 1, data = `cmd-${index}`): Entry => ({ term, index, type: 'normal', data });
const range = (from: number, to: number, term = 1): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));

async function open(dir: string, segmentBytes?: number): Promise<{ storage: FileRaftStorage; state: Awaited<ReturnType<FileRaftStorage['load']>> }> {
  const storage = new FileRaftStorage({ dir, ...(segmentBytes ? { segmentBytes } : {}) });
  const state = await storage.load();
  return { storage, state };
}

async function onlySegment(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.wal'));
  expect(names).toHaveLength(1);
  return join(dir, names[0]!);
}

describe('FileRaftStorage', () => {
  it('round-trips entries, hard state and conflict truncation across a restart', async () => {
    const dir = await tempDir();
    const { storage, state } = await open(dir);
    expect(state).toEqual({ hardState: { term: 0, votedFor: undefined, commitIndex: 0 }, snapshot: undefined, entries: [] });
    storage.append(range(1, 5));
    storage.setHardState({ term: 2, votedFor: 'n2', commitIndex: 3 });
    // A follower resolving a conflict: index 4 arrives again with a newer term.
    storage.append([entry(4, 2, 'replaced-4'), entry(5, 2, 'replaced-5'), entry(6, 2)]);
    await storage.sync();
    await storage.close();

    const reloaded = await open(dir);
    expect(reloaded.state.hardState).toEqual({ term: 2, votedFor: 'n2', commitIndex: 3 });
    expect(reloaded.state.entries).toEqual([...range(1, 3), entry(4, 2, 'replaced-4'), entry(5, 2, 'replaced-5'), entry(6, 2)]);
    expect(reloaded.storage.loadReport?.tornTail).toBeUndefined();
    await reloaded.storage.close();
  });

  it('loses only what was never synced', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    storage.append(range(1, 3));
    await storage.sync();
    storage.append(range(4, 6)); // never synced
    // A crash now leaves exactly what is on disk: copy it before the clean close below.
    const crashed = `${dir}-crashed`;
    dirs.push(crashed);
    await cp(dir, crashed, { recursive: true });
    await storage.close();
    const reloaded = await open(crashed);
    expect(reloaded.state.entries).toEqual(range(1, 3));
    await reloaded.storage.close();
  });

  it('shares one fsync among concurrent sync() callers (group commit)', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    const syncs: Promise<void>[] = [];
    for (let index = 1; index <= 200; index++) {
      storage.append([entry(index)]);
      syncs.push(storage.sync());
    }
    await Promise.all(syncs);
    // The first caller starts a flush, the other 199 share the next one.
    expect(storage.fsyncCount).toBeLessThanOrEqual(2);
    await storage.close();
    const reloaded = await open(dir);
    expect(reloaded.state.entries).toEqual(range(1, 200));
    await reloaded.storage.close();
  });

  it('truncates a torn tail at every byte offset and loads exactly the complete records', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    storage.append(range(1, 3));
    await storage.sync();
    const segment = await onlySegment(dir);
    const stableBytes = (await stat(segment)).size;
    // The tail: two more syncs, each an entries record followed by a hard-state record.
    storage.append([entry(4)]);
    storage.setHardState({ term: 1, votedFor: 'n1', commitIndex: 4 });
    await storage.sync();
    const midBytes = (await stat(segment)).size;
    storage.append([entry(5)]);
    storage.setHardState({ term: 1, votedFor: 'n1', commitIndex: 5 });
    await storage.sync();
    await storage.close();
    const fullBytes = (await stat(segment)).size;
    const original = await readFile(segment);

    let tornLoads = 0;
    for (let cut = stableBytes; cut <= fullBytes; cut++) {
      await writeFile(segment, original.subarray(0, cut));
      const { storage: reopened, state } = await open(dir);
      const lastIndex = state.entries[state.entries.length - 1]!.index;
      if (cut === fullBytes) expect(lastIndex).toBe(5);
      else if (cut >= midBytes) expect(lastIndex === 4 || lastIndex === 5).toBe(true);
      else expect(lastIndex === 3 || lastIndex === 4).toBe(true);
      expect(state.entries).toEqual(range(1, lastIndex));
      const torn = reopened.loadReport?.tornTail;
      if (torn) {
        tornLoads++;
        expect(torn.offset + torn.bytesDropped).toBe(cut);
        expect((await stat(segment)).size).toBe(torn.offset);
      }
      // The repaired log keeps working: append after the cut and reload.
      reopened.append([entry(lastIndex + 1, 1, 'after-repair')]);
      await reopened.sync();
      await reopened.close();
      const again = await open(dir);
      expect(again.state.entries).toEqual([...range(1, lastIndex), entry(lastIndex + 1, 1, 'after-repair')]);
      expect(again.storage.loadReport?.tornTail).toBeUndefined();
      await again.storage.close();
    }
    // Every cut strictly inside a record is torn; only record boundaries load cleanly.
    expect(tornLoads).toBeGreaterThan(fullBytes - stableBytes - 5);
  });

  it('refuses to start when a record before the tail is corrupt, naming file and offset', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    for (let index = 1; index <= 10; index++) {
      storage.append([entry(index)]);
      await storage.sync();
    }
    await storage.close();
    const segment = await onlySegment(dir);
    const bytes = await readFile(segment);
    // Find the record that carries entry 5 and flip one byte of its payload.
    const at = bytes.indexOf('cmd-5');
    expect(at).toBeGreaterThan(0);
    const batch = batchExtents(bytes).find((extent) => extent.start < at && at < extent.end)!;
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(segment, bytes);

    const broken = new FileRaftStorage({ dir });
    const error = await broken.load().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WalError);
    expect((error as WalError).code).toBe('WAL_CORRUPT_RECORD');
    expect((error as WalError).file).toBe(segment);
    // The offset is where the damaged flush (batch) starts: the unit that was synced as a whole.
    expect((error as WalError).offset).toBe(batch.start);
    expect((error as WalError).message).toContain(segment);
    expect((error as WalError).message).toContain(`byte offset ${batch.start} (batch checksum mismatch, followed by valid records`);
    // Nothing was "repaired": the damaged file is untouched.
    expect((await readFile(segment)).equals(bytes)).toBe(true);
  });

  it('refuses a corrupt length field in the middle too', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    for (let index = 1; index <= 6; index++) {
      storage.append([entry(index)]);
      await storage.sync();
    }
    await storage.close();
    const segment = await onlySegment(dir);
    const bytes = await readFile(segment);
    const payloadAt = bytes.indexOf('[{"term":1,"index":3');
    bytes[payloadAt - 9 + 2] = 0x7f; // length field of entry 3's record becomes huge
    await writeFile(segment, bytes);
    // Each sync wrote one batch holding one record: the batch header sits right before it.
    await expect(new FileRaftStorage({ dir }).load()).rejects.toMatchObject({ code: 'WAL_CORRUPT_RECORD', offset: payloadAt - 9 - BATCH_HEADER_BYTES });
  });

  it('treats a damaged last record as a torn tail', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    storage.append(range(1, 4));
    await storage.sync();
    storage.append([entry(5)]);
    await storage.sync();
    await storage.close();
    const segment = await onlySegment(dir);
    const bytes = await readFile(segment);
    const lastBatch = batchExtents(bytes).at(-1)!;
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    await writeFile(segment, bytes);
    const { storage: reopened, state } = await open(dir);
    expect(state.entries).toEqual(range(1, 4));
    expect(reopened.loadReport?.tornTail).toMatchObject({ offset: lastBatch.start, reason: 'batch checksum mismatch' });
    await reopened.close();
  });

  it('writes snapshots atomically, compacts old segments and reloads snapshot + tail', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir, 2048);
    for (let index = 1; index <= 200; index++) {
      storage.append([entry(index, 1, `value-${index}-${'y'.repeat(40)}`)]);
      if (index % 10 === 0) await storage.sync();
    }
    storage.setHardState({ term: 1, votedFor: 'n1', commitIndex: 200 });
    await storage.sync();
    const before = storage.segmentFiles();
    expect(before.length).toBeGreaterThan(5);

    const snapshot: Snapshot = { lastIncludedIndex: 150, lastIncludedTerm: 1, membership: { voters: ['n1', 'n2', 'n3'], learners: [] }, data: '{"kv":{"a":"1"}}' };
    storage.saveSnapshot(snapshot);
    await storage.sync();
    const after = storage.segmentFiles();
    expect(after.length).toBeLessThan(before.length);
    expect(after[0]).not.toBe(before[0]);
    for (const path of before.filter((p) => !after.includes(p))) await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(dir)).filter((name) => name.includes('.tmp'))).toEqual([]);
    storage.append([entry(201, 2)]);
    await storage.sync();
    await storage.close();

    const reloaded = await open(dir, 2048);
    expect(reloaded.state.snapshot).toEqual(snapshot);
    expect(reloaded.state.hardState).toEqual({ term: 1, votedFor: 'n1', commitIndex: 200 });
    expect(reloaded.state.entries.map((e) => e.index)).toEqual(Array.from({ length: 51 }, (_, i) => 151 + i));
    expect(reloaded.state.entries[50]).toEqual(entry(201, 2));
    await reloaded.storage.close();
  });

  it('replaces the whole log when a snapshot conflicts with it (InstallSnapshot)', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    storage.append(range(1, 10, 1));
    await storage.sync();
    storage.saveSnapshot({ lastIncludedIndex: 40, lastIncludedTerm: 3, membership: { voters: ['n1'], learners: [] }, data: 'state' });
    storage.append([entry(41, 3)]);
    await storage.sync();
    await storage.close();
    const reloaded = await open(dir);
    expect(reloaded.state.snapshot?.lastIncludedIndex).toBe(40);
    expect(reloaded.state.entries).toEqual([entry(41, 3)]);
    await reloaded.storage.close();
  });

  it('refuses a damaged snapshot file', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir);
    storage.append(range(1, 3));
    storage.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1, membership: { voters: ['n1'], learners: [] }, data: 'abcdef' });
    await storage.sync();
    await storage.close();
    const file = join(dir, 'snapshot.bin');
    const bytes = await readFile(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x20;
    await writeFile(file, bytes);
    await expect(new FileRaftStorage({ dir }).load()).rejects.toMatchObject({ code: 'WAL_SNAPSHOT_CORRUPT', file });
  });

  it('refuses when an older (fully synced) segment is damaged, even at its end', async () => {
    const dir = await tempDir();
    const { storage } = await open(dir, 1024);
    for (let index = 1; index <= 60; index++) {
      storage.append([entry(index, 1, `v-${index}-${'z'.repeat(50)}`)]);
      await storage.sync();
    }
    await storage.close();
    const segments = (await readdir(dir)).filter((name) => name.endsWith('.wal')).sort();
    expect(segments.length).toBeGreaterThan(2);
    const first = join(dir, segments[0]!);
    await truncate(first, (await stat(first)).size - 4);
    await expect(new FileRaftStorage({ dir }).load()).rejects.toMatchObject({ code: 'WAL_CORRUPT_RECORD', file: first });
  });

  it('keeps every acknowledged index when the writer is SIGKILLed mid-loop', async () => {
    const dir = await tempDir();
    const fixture = join(import.meta.dirname, 'fixtures', 'wal-append-loop.ts');
    let acknowledged = 0;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      const killAfter = 150 + round * 97;
      let seenThisRound = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        if (line.startsWith('ready') && round === 0) {
          // While the writer runs, nobody else may open its directory.
          await expect(new FileRaftStorage({ dir }).load()).rejects.toMatchObject({ code: 'WAL_LOCKED' });
        }
        const match = /^acked (\d+)$/.exec(line);
        if (!match) continue;
        acknowledged = Math.max(acknowledged, Number(match[1]));
        if (++seenThisRound === killAfter) child.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
      const { storage, state } = await open(dir);
      const present = new Set(state.entries.map((e) => e.index));
      for (let index = 1; index <= acknowledged; index++) expect(present.has(index), `acknowledged index ${index} lost`).toBe(true);
      expect(state.entries.every((e) => e.data.startsWith(`value-${e.index}-`))).toBe(true);
      expect(state.hardState.commitIndex).toBeGreaterThanOrEqual(acknowledged - 4);
      await storage.close();
    }
  }, 60_000);
});
