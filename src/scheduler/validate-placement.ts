/**
 * Checks a service's placement rules before anything is written, so a constraint on an attribute
 * nodes do not have is refused at deploy time (with where it is) instead of leaving every replica
 * pending forever.
 */
import type { ServiceSpec, StackSpec } from '../compose/types.ts';
import { isConstraintError, parseConstraint } from './constraints.ts';
import { parsePreference } from './preferences.ts';

export interface PlacementProblem {
  readonly code: string;
  readonly message: string;
  readonly service: string;
  /** Key path inside the service, e.g. ['deploy', 'placement', 'constraints', 0]. */
  readonly path: readonly (string | number)[];
}

export function validateConstraints(service: ServiceSpec): PlacementProblem[] {
  const problems: PlacementProblem[] = [];
  const placement = service.deploy.placement;
  placement.constraints.forEach((text, index) => {
    const parsed = parseConstraint(text);
    if (isConstraintError(parsed)) problems.push({ ...parsed, service: service.name, path: ['deploy', 'placement', 'constraints', index] });
  });
  placement.preferences.forEach((preference, index) => {
    const parsed = parsePreference(preference);
    if ('code' in parsed) problems.push({ ...parsed, service: service.name, path: ['deploy', 'placement', 'preferences', index] });
  });
  return problems;
}

export function validateStackPlacement(stack: StackSpec): PlacementProblem[] {
  return stack.services.flatMap(validateConstraints);
}
