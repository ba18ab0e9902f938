import type { RestartPolicySpec } from '../../compose/types.ts';
import { exponentialBackoffMs } from '../../agent/backoff.ts';

/**
 * Restart decisions for one replica, as pure functions of the policy, the times of earlier
 * restarts and "now" (all passed in, so the container machine stays deterministic).
 *
 * Semantics follow compose/swarm `deploy.restart_policy`:
 * - condition `none` never restarts; `on-failure` restarts on a non-zero exit (or a failed start);
 *   `any` restarts whatever the exit code.
 * - `maxAttempts` counts restarts inside the sliding `windowMs` (0 = the whole life of the replica).
 * - the delay doubles with every restart of a crash loop, capped, so a crash loop backs off; a
 *   replica that ran for RESTART_BACKOFF_RESET_MS (10 s, as Docker) before it exited starts a
 *   new loop at the base delay. Without that reset, under the default window 0 every restart
 *   after the ~8th of a replica's life would wait the cap forever.
 */

/** Floor for the base delay: a policy with delay 0 must still not spin the engine. */
export const MIN_RESTART_DELAY_MS = 100;
/** Cap of the exponential growth; a configured delay above it is used as is. */
export const MAX_RESTART_DELAY_MS = 30_000;
/** A run at least this long ends a crash loop: the next restart waits the base delay again. */
export const RESTART_BACKOFF_RESET_MS = 10_000;

/**
 * Restarts in the current crash loop, given those before the last run and how long it ran
 * (undefined: it never ran, e.g. a failed start, which continues the loop).
 */
export function crashLoopLength(previous: number, ranForMs: number | undefined): number {
  return ranForMs !== undefined && ranForMs >= RESTART_BACKOFF_RESET_MS ? 0 : previous;
}

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly attempt: number }
  | { readonly restart: false; readonly reason: 'condition-none' | 'exited-successfully' | 'max-attempts' };

/** Restart times that still count against `maxAttempts` at `nowMs`. */
export function attemptsInWindow(policy: RestartPolicySpec, restartTimesMs: readonly number[], nowMs: number): number[] {
  if (policy.windowMs <= 0) return [...restartTimesMs];
  return restartTimesMs.filter((t) => nowMs - t < policy.windowMs);
}

/** Delay before the next restart when `previousAttempts` restarts already happened in the window. */
export function restartDelayMs(policy: RestartPolicySpec, previousAttempts: number): number {
  const baseMs = Math.max(policy.delayMs, MIN_RESTART_DELAY_MS);
  return exponentialBackoffMs(previousAttempts, baseMs, Math.max(baseMs, MAX_RESTART_DELAY_MS));
}

/**
 * @param exitCode the exit code, or undefined when the container could not be started at all
 *   (which counts as a failure).
 */
export function decideRestart(
  policy: RestartPolicySpec,
  exitCode: number | undefined,
  restartTimesMs: readonly number[],
  nowMs: number,
  /** Restarts of the current crash loop (see crashLoopLength); absent = those in the window. */
  loopRestarts?: number,
): RestartDecision {
  if (policy.condition === 'none') return { restart: false, reason: 'condition-none' };
  if (policy.condition === 'on-failure' && exitCode === 0) return { restart: false, reason: 'exited-successfully' };
  const recent = attemptsInWindow(policy, restartTimesMs, nowMs);
  if (policy.maxAttempts !== undefined && recent.length >= policy.maxAttempts) return { restart: false, reason: 'max-attempts' };
  return { restart: true, delayMs: restartDelayMs(policy, loopRestarts ?? recent.length), attempt: recent.length + 1 };
}
