import { ApiError } from './api-error.ts';

/**
 * Stack names become part of container names (`<stack>_<service>_<slot>`) and service ids
 * (`<stack>_<service>`), so they may not contain the `_` separator; lowercase so they match
 * compose project names and Docker's naming rules.
 */
export const stackNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function assertValidStackName(name: string, where: string): void {
  if (!stackNamePattern.test(name)) {
    throw new ApiError(400, 'invalid_stack_name',
      `stack name "${name}" is invalid: use 1-63 lowercase letters, digits or '-', starting with a letter or digit`,
      [{ severity: 'error', code: 'invalid_stack_name', message: `invalid stack name "${name}"`, path: where }]);
  }
}
