import type { Random } from '../../seams/random.ts';

export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Exponential back-off with "equal jitter": the n-th retry waits between half and all of
 * min(max, initial·2ⁿ), so peers that lost a member at the same moment do not redial in lockstep.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: Random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random.next() * (ceiling / 2);
}
