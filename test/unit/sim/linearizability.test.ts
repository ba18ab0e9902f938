import { describe, expect, it } from 'vitest';
import { checkLinearizable, LinearizabilityInputError, type KvInput, type KvOperation } from '../../../src/sim/linearizability.ts';

let nextId = 0;
function op(clientId: string, key: string, input: KvInput, observed: string | undefined | 'unknown', invokeAt: number, returnAt?: number): KvOperation {
  return {
    id: nextId++,
    clientId,
    key,
    input,
    ...(observed === 'unknown' || returnAt === undefined ? {} : { output: { value: observed } }),
    invokeAt,
    ...(returnAt === undefined ? {} : { returnAt }),
  };
}
const put = (value: string): KvInput => ({ kind: 'put', value });
const get: KvInput = { kind: 'get' };
const del: KvInput = { kind: 'delete' };

describe('checkLinearizable', () => {
  it('accepts a sequential history that follows the register', () => {
    const history = [op('a', 'x', put('1'), undefined, 0, 1), op('a', 'x', get, '1', 2, 3), op('a', 'x', del, '1', 4, 5), op('a', 'x', get, undefined, 6, 7)];
    expect(checkLinearizable(history).ok).toBe(true);
  });

  it('accepts a concurrent read that sees either the old or the new value', () => {
    const old = [op('a', 'x', put('1'), undefined, 0, 10), op('b', 'x', get, undefined, 1, 2)];
    const fresh = [op('a', 'x', put('1'), undefined, 0, 10), op('b', 'x', get, '1', 1, 2)];
    expect(checkLinearizable(old).ok).toBe(true);
    expect(checkLinearizable(fresh).ok).toBe(true);
  });

  it('rejects a stale read: a read that starts after a write completed sees the old value', () => {
    const history = [op('a', 'x', put('1'), undefined, 0, 1), op('a', 'x', put('2'), '1', 2, 3), op('b', 'x', get, '1', 4, 5)];
    const result = checkLinearizable(history);
    expect(result.ok).toBe(false);
    if (result.ok === false) {
      expect(result.key).toBe('x');
      expect(result.unplaced.map((o) => o.clientId)).toContain('b');
      expect(result.message).toContain('not linearizable');
    }
  });

  it('rejects a lost write: an acknowledged write never becomes visible', () => {
    const history = [
      op('a', 'x', put('1'), undefined, 0, 1),
      op('b', 'x', put('2'), '1', 2, 3),
      op('c', 'x', get, '1', 4, 5),
      op('c', 'x', get, '1', 6, 7),
    ];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('rejects a read-your-writes violation by a single client', () => {
    const history = [op('a', 'x', put('1'), undefined, 0, 1), op('a', 'x', get, undefined, 2, 3)];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('rejects reads that go back in time (new value seen, then the old one, sequentially)', () => {
    const history = [
      op('w', 'x', put('1'), undefined, 0, 1),
      op('w', 'x', put('2'), 'unknown', 2, 20),
      op('r1', 'x', get, '2', 3, 4),
      op('r2', 'x', get, '1', 5, 6),
    ];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('rejects a put whose reported previous value contradicts the order', () => {
    const history = [op('a', 'x', put('1'), undefined, 0, 1), op('b', 'x', put('2'), undefined, 2, 3)];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('lets an operation without a response take effect later', () => {
    const history = [op('a', 'x', put('1'), 'unknown', 0), op('b', 'x', get, undefined, 1, 2), op('b', 'x', get, '1', 3, 4)];
    expect(checkLinearizable(history).ok).toBe(true);
  });

  it('lets an operation without a response never take effect', () => {
    const history = [op('a', 'x', put('1'), 'unknown', 0), op('b', 'x', get, undefined, 1, 2), op('b', 'x', get, undefined, 30, 40)];
    expect(checkLinearizable(history).ok).toBe(true);
  });

  it('does not let a pending write take effect before it was invoked', () => {
    const history = [op('b', 'x', get, '1', 0, 1), op('a', 'x', put('1'), 'unknown', 2)];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('does not let a pending write take effect twice (flip-flop reads)', () => {
    const history = [
      op('a', 'x', put('1'), undefined, 0, 1),
      op('b', 'x', put('2'), 'unknown', 2),
      op('c', 'x', get, '2', 3, 4),
      op('c', 'x', get, '1', 5, 6),
      op('c', 'x', get, '2', 7, 8),
    ];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('checks keys independently: a violation on one key is reported with that key', () => {
    const history = [
      op('a', 'ok', put('1'), undefined, 0, 1),
      op('a', 'ok', get, '1', 2, 3),
      op('a', 'bad', put('1'), undefined, 0, 1),
      op('b', 'bad', get, 'never-written', 2, 3),
    ];
    const result = checkLinearizable(history);
    expect(result.ok).toBe(false);
    if (result.ok === false) expect(result.key).toBe('bad');
  });

  it('treats equal time stamps as concurrent', () => {
    const history = [op('a', 'x', put('1'), undefined, 0, 5), op('b', 'x', get, undefined, 5, 6)];
    expect(checkLinearizable(history).ok).toBe(true);
  });

  it('handles many concurrent operations in few steps thanks to memoization', () => {
    // 16 clients write concurrently, then everyone reads the same final value. Without the cache
    // this explores up to 16! ≈ 2·10^13 orders; with it, at most 2^16 sets × 17 register values.
    // The budgets count search steps, not wall-clock time, so the check is exact on a loaded
    // machine: the valid history takes about 4,700 steps, the refuted one needs the full space.
    const writes = Array.from({ length: 16 }, (_, i) => op(`w${i}`, 'x', put(String(i)), 'unknown', 0, 100));
    const reads = Array.from({ length: 8 }, (_, i) => op(`r${i}`, 'x', get, '7', 200 + i * 2, 201 + i * 2));
    expect(checkLinearizable([...writes, ...reads], { maxStepsPerKey: 10_000 }).ok).toBe(true);
    const bad = [...writes, ...reads, op('z', 'x', get, '3', 300, 301)];
    expect(checkLinearizable(bad, { maxStepsPerKey: 17 * 2 ** 16 * 16 }).ok).toBe(false);
  });

  it('reports a search that exceeds its budget as unknown instead of hanging', () => {
    const writes = Array.from({ length: 12 }, (_, i) => op(`w${i}`, 'x', put(String(i)), 'unknown', 0, 100));
    const result = checkLinearizable([...writes, op('z', 'x', get, 'nope', 200, 201)], { maxStepsPerKey: 50 });
    expect(result.ok).toBe('unknown');
  });

  it('refuses malformed histories with a clear error', () => {
    expect(() => checkLinearizable([{ id: 1, clientId: 'a', key: 'x', input: get, invokeAt: 5, returnAt: 1 }])).toThrow(LinearizabilityInputError);
    const dup = op('a', 'x', get, undefined, 0, 1);
    expect(() => checkLinearizable([dup, dup])).toThrow(/appears twice/);
  });
});
