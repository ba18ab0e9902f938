/**
 * Exponential back-off shared by every retry loop in the agent (engine calls, event stream
 * re-subscription, respawning crashed children). Pure: the caller counts failures.
 */
export function exponentialBackoffMs(failures: number, baseMs: number, capMs: number): number {
  if (failures <= 0) return Math.min(baseMs, capMs);
  // 2^30 is far past any cap; clamping the exponent keeps the arithmetic finite.
  return Math.min(capMs, baseMs * 2 ** Math.min(failures, 30));
}

export const ENGINE_RETRY_BASE_MS = 250;
export const ENGINE_RETRY_CAP_MS = 10_000;

export function engineRetryDelayMs(failures: number): number {
  return exponentialBackoffMs(failures, ENGINE_RETRY_BASE_MS, ENGINE_RETRY_CAP_MS);
}
