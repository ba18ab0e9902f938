import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/sim/seeded-random.ts';

const draw = (random: SeededRandom, n: number): number[] => Array.from({ length: n }, () => random.next());

describe('SeededRandom', () => {
  it('replays the same sequence from the same seed and differs across seeds', () => {
    expect(draw(new SeededRandom(42), 20)).toEqual(draw(new SeededRandom(42), 20));
    expect(draw(new SeededRandom(42), 20)).not.toEqual(draw(new SeededRandom(43), 20));
  });

  it('forks streams that depend only on the seed and label, not on parent consumption', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    draw(b, 100);
    expect(draw(a.fork('net'), 10)).toEqual(draw(b.fork('net'), 10));
    expect(draw(a.fork('net'), 10)).not.toEqual(draw(a.fork('disk'), 10));
    expect(draw(a.fork('n1').fork('timer'), 5)).toEqual(draw(b.fork('n1').fork('timer'), 5));
  });

  it('draws floats in [0, 1) and integers in range with a roughly uniform spread', () => {
    const random = new SeededRandom('uniform');
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = random.next();
      expect(x >= 0 && x < 1).toBe(true);
      const k = random.int(0, 10);
      buckets[k] = buckets[k]! + 1;
    }
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(600);
    expect(() => random.int(5, 5)).toThrow(RangeError);
  });
});
