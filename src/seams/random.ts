/** Randomness as a seam so every simulated run replays from its seed. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [minInclusive, maxExclusive). */
  int(minInclusive: number, maxExclusive: number): number;
}
