import type { ApiDiagnostic } from '../../api/api-error.ts';
import { formatDiagnostic } from '../../compose/diagnostics.ts';
import { CliError } from '../cli-error.ts';
import { writeLine } from '../cli-io.ts';
import { ExitCode } from '../exit-codes.ts';

/**
 * How the CLI names the compose file in what it prints: as the user typed it (`-f web.yaml`),
 * whether the diagnostics came from the daemon (which only knows the base name) or from the
 * local loader of --dry-run (which was given the absolute path).
 */
export interface ComposeFileNames {
  /** The path as given on the command line. */
  readonly given: string;
  /** The name the diagnostics carry for that same file. */
  readonly inDiagnostics: string;
}

function asGiven(diagnostic: ApiDiagnostic, names: ComposeFileNames): ApiDiagnostic {
  return diagnostic.file === names.inDiagnostics ? { ...diagnostic, file: names.given } : diagnostic;
}

function byLine(diagnostics: readonly ApiDiagnostic[]): ApiDiagnostic[] {
  return [...diagnostics].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/**
 * The one error a rejected compose file gives, the same for a deploy and a --dry-run: a header
 * that counts the errors (never repeats the first), then every error and warning by line.
 */
export function composeRejected(diagnostics: readonly ApiDiagnostic[], names: ComposeFileNames): CliError {
  const errors = byLine(diagnostics.filter((d) => d.severity === 'error'));
  const warnings = byLine(diagnostics.filter((d) => d.severity !== 'error'));
  const count = errors.length;
  return new CliError(
    ExitCode.invalid,
    `compose file ${names.given} rejected (${count} error${count === 1 ? '' : 's'}); nothing was deployed [invalid_compose]`,
    [...errors, ...warnings].map((d) => asGiven(d, names)),
    'invalid_compose',
  );
}

/** Warnings of an accepted file (or a dry run): on stderr, by line, so stdout stays the result. */
export function printComposeWarnings(stream: NodeJS.WritableStream, warnings: readonly ApiDiagnostic[], names: ComposeFileNames): void {
  for (const warning of byLine(warnings)) writeLine(stream, formatDiagnostic(asGiven(warning, names)));
}
