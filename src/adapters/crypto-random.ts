import { randomInt } from 'node:crypto';
import type { Random } from '../seams/random.ts';

/** Production randomness; the simulator passes a seeded PRNG instead. */
export const cryptoRandom: Random = {
  next: () => randomInt(0, 2 ** 48) / 2 ** 48,
  int: (minInclusive, maxExclusive) => randomInt(minInclusive, maxExclusive),
};
