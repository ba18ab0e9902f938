import { exponentialBackoffMs } from '../agent/backoff.ts';

/**
 * What a crashed or finished child means, per supervisor. Written down here so the policy is in
 * one place; the node agent applies it in its `xstate.error.actor.*` / `xstate.done.actor.*`
 * handlers.
 *
 * Node agent (root of the daemon's agent system) and its children:
 * - container.<name>.<gen> (one per replica)
 *   · done  = the replica reached `removed` (removed on purpose, or vanished from the engine):
 *             forget it and reconcile; the planner recreates the slot if it is still desired.
 *   · error = a bug threw inside the machine. stopChild, then keep the slot alone for a back-off
 *             (growing with repeated crashes of that slot) and reconcile: the next pass ADOPTS
 *             the still-running container by its labels, so a crashing actor never restarts a
 *             workload.
 * - engine-events (the engine's event stream)
 *   · done or error, or the stream's own end: stop it, re-subscribe after a back-off, and
 *     re-list the engine because events during the gap are lost. Never escalates: a dockerd
 *     restart must be survived.
 * - list.<n> (one engine listing)
 *   · error: retry after a back-off (the periodic resync keeps going regardless).
 * - store-watch (desired-state subscription)
 *   · error: re-subscribe after a back-off, and re-read the current desired state.
 * Container actor (container-actor.ts) and its children: at most one in-flight engine call
 * (create/start/stop/remove, invoked promise actors). Each call resolves with a result object and
 * the machine answers both onDone and onError: engine unavailable → engine back-off and retry;
 * a failed start → the restart policy decides; a spec the engine refuses → `failed` (reported,
 * nothing retried until the spec changes). Nothing escalates from a container actor except a
 * bug, which the node agent handles as above.
 *
 * The node agent's own handlers catch what they throw (reported as `agent-error`), so the root
 * never fails; the root still has an error observer (daemon-system.ts) that logs and keeps the
 * process alive. Nothing escalates to it on purpose.
 */
export const CHILD_RESPAWN_BASE_MS = 500;
export const CHILD_RESPAWN_CAP_MS = 30_000;

export function respawnDelayMs(consecutiveCrashes: number): number {
  return exponentialBackoffMs(Math.max(0, consecutiveCrashes - 1), CHILD_RESPAWN_BASE_MS, CHILD_RESPAWN_CAP_MS);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
