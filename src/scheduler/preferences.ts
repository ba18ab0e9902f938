/**
 * Placement preferences: `spread: node.labels.<label>` spreads a service's replicas evenly over
 * the label's values (zones, racks). A node without the label counts as one more value of its
 * own, as in Swarm, so unlabelled nodes are neither preferred nor left out.
 */
import { schedulerCodes } from './scheduler-codes.ts';
import type { ConstraintError } from './constraints.ts';

export interface SpreadPreference {
  readonly label: string;
}

const labelPrefix = 'node.labels.';

export function parsePreference(preference: { readonly spread?: unknown }): SpreadPreference | ConstraintError {
  const spread = typeof preference === 'object' && preference !== null ? preference.spread : undefined;
  if (typeof spread === 'string') {
    const trimmed = spread.trim();
    if (trimmed.toLowerCase().startsWith(labelPrefix) && trimmed.length > labelPrefix.length) return { label: trimmed.slice(labelPrefix.length) };
  }
  return { code: schedulerCodes.invalidPreference, message: `placement preference ${JSON.stringify(preference)} is not supported; use "spread: ${labelPrefix}<label>"` };
}
