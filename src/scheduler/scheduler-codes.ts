/** Every error code the scheduler's validation emits, so the loader, the API and tests can match on them. */
export const schedulerCodes = {
  /** A constraint that is not `attribute == value` or `attribute != value`. */
  invalidConstraint: 'SCHEDULER_INVALID_CONSTRAINT',
  /** A constraint on an attribute nodes do not have (e.g. `engine.labels.x`, `node.name`). */
  unknownConstraintAttribute: 'SCHEDULER_UNKNOWN_CONSTRAINT_ATTRIBUTE',
  /** A placement preference other than `spread: node.labels.<label>`. */
  invalidPreference: 'SCHEDULER_INVALID_PREFERENCE',
} as const;
