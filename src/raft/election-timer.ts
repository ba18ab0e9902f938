/**
 * Randomized election timeouts without Math.random: a tiny xorshift32 generator whose state lives in
 * the role machine's context (seeded once from the Random seam), so a simulated run replays exactly.
 */
export function nextRandomState(state: number): number {
  let x = state | 0 || 0x9e3779b9;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** A timeout in [baseMs, 2 * baseMs) and the generator's next state. */
export function drawElectionTimeout(rngState: number, baseMs: number): { readonly timeoutMs: number; readonly rngState: number } {
  const next = nextRandomState(rngState);
  return { timeoutMs: baseMs + Math.floor((next / 0x1_0000_0000) * baseMs), rngState: next };
}
