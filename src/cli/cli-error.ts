import type { ApiDiagnostic } from '../api/api-error.ts';
import type { ExitCodeValue } from './exit-codes.ts';

/** A failure the CLI reports as one clear line (plus diagnostics) and an exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
    readonly diagnostics: readonly ApiDiagnostic[] = [],
    /** The API's error code when the failure came from the daemon (e.g. `invalid_compose`). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
