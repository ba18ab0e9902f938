import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/adapters/raft-wal/group-commit.ts';

/** A flush whose completion the test controls, recording what each flush covered. */
function harness() {
  let pending = 0;
  const flushes: { covered: number; finish: (error?: Error) => void }[] = [];
  const commit = new GroupCommit(
    () => new Promise<void>((resolve, reject) => {
      const covered = pending;
      pending = 0;
      flushes.push({ covered, finish: (error) => (error ? reject(error) : resolve()) });
    }),
    () => pending > 0,
  );
  return { commit, flushes, write: () => void pending++ };
}

const settled = async (promise: Promise<unknown>): Promise<string> => {
  const marker = Symbol('pending');
  const result = await Promise.race([promise.then(() => 'resolved', () => 'rejected'), new Promise((resolve) => setImmediate(() => resolve(marker)))]);
  return result === marker ? 'pending' : (result as string);
};

describe('GroupCommit', () => {
  it('resolves at once when nothing was written', async () => {
    const { commit, flushes } = harness();
    await commit.request();
    expect(flushes).toHaveLength(0);
  });

  it('lets every caller that arrives during a flush share the next one', async () => {
    const { commit, flushes, write } = harness();
    write();
    const first = commit.request();
    write();
    const second = commit.request();
    write();
    const third = commit.request();
    expect(flushes.map((f) => f.covered)).toEqual([1]);
    flushes[0]!.finish();
    await first;
    expect(await settled(second)).toBe('pending');
    expect(flushes.map((f) => f.covered)).toEqual([1, 2]);
    flushes[1]!.finish();
    await Promise.all([second, third]);
    expect(flushes).toHaveLength(2);
  });

  it('answers a caller with nothing new from the running flush', async () => {
    const { commit, flushes, write } = harness();
    write();
    const first = commit.request();
    const same = commit.request();
    expect(await settled(same)).toBe('pending');
    flushes[0]!.finish();
    await Promise.all([first, same]);
    expect(flushes).toHaveLength(1);
  });

  it('fails every later request after a failed flush (the page cache cannot be trusted)', async () => {
    const { commit, flushes, write } = harness();
    write();
    const first = commit.request();
    write();
    const queued = commit.request();
    flushes[0]!.finish(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await expect(queued).rejects.toMatchObject({ code: 'WAL_SYNC_FAILED' });
    write();
    await expect(commit.request()).rejects.toMatchObject({ code: 'WAL_SYNC_FAILED' });
    expect(flushes).toHaveLength(1);
  });
});
