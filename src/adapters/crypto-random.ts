import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from '../seams/random.ts';

/** Production randomness; the simulator passes a seeded PRNG instead. */
export const cryptoRandom: Random = {
  // 48 random bits: randomInt's range must stay below 2^48, so read the bytes directly.
  next: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  int: (minInclusive, maxExclusive) => randomInt(minInclusive, maxExclusive),
};
