import type { ApiDiagnostic } from '../../api/api-error.ts';
import { formatDiagnostic } from '../../compose/diagnostics.ts';

/** Indented diagnostic lines under the one-line error, each naming file:line key (service). */
export function renderDiagnostics(diagnostics: readonly ApiDiagnostic[]): string[] {
  return diagnostics.map((diagnostic) => `  ${formatDiagnostic(diagnostic)}`);
}
