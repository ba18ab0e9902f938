import { isValidStackName, stackNameRule } from '../compose/stack-name.ts';
import { ApiError } from './api-error.ts';

/** The rule (and why `_` is refused) lives in src/compose/stack-name.ts, shared with the loader and the CLI. */
export function assertValidStackName(name: string, where: string): void {
  if (!isValidStackName(name)) {
    throw new ApiError(400, 'invalid_stack_name',
      `stack name "${name}" is invalid: ${stackNameRule}`,
      [{ severity: 'error', code: 'invalid_stack_name', message: `invalid stack name "${name}"`, path: where }]);
  }
}
