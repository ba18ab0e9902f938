/**
 * Every error code the scheduler's validation emits, so the loader, the API and tests can match on
 * them. They are COMPOSE_ codes because what they refuse is part of the compose file, and the
 * loader reports them with its own (compose-codes.ts lists them too).
 */
export const schedulerCodes = {
  /** A constraint that is not `attribute == value` or `attribute != value`. */
  invalidConstraint: 'COMPOSE_INVALID_CONSTRAINT',
  /** A constraint on an attribute nodes do not have (e.g. `engine.labels.x`, `node.name`). */
  unknownConstraintAttribute: 'COMPOSE_UNKNOWN_CONSTRAINT_ATTRIBUTE',
  /** A placement preference other than `spread: node.labels.<label>`. */
  invalidPreference: 'COMPOSE_INVALID_PLACEMENT_PREFERENCE',
} as const;
