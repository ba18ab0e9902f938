/**
 * Collects diagnostics while a file is loaded; each one is placed at the line of its key path and
 * tagged with the service it belongs to, so a message always says file, line, key and service.
 */
import type { ComposeDiagnostic } from './types.ts';
import { formatKeyPath, type KeyPath, type YamlSource } from './yaml-source.ts';

export class DiagnosticSink {
  readonly errors: ComposeDiagnostic[] = [];
  readonly warnings: ComposeDiagnostic[] = [];

  constructor(
    private readonly source: Pick<YamlSource, 'file' | 'lineOf'>,
    private readonly serviceOf: (path: KeyPath) => string | undefined = () => undefined,
  ) {}

  error(path: KeyPath, code: string, message: string): void {
    this.errors.push(this.make('error', path, code, message));
  }

  warning(path: KeyPath, code: string, message: string): void {
    this.warnings.push(this.make('warning', path, code, message));
  }

  private make(severity: 'error' | 'warning', path: KeyPath, code: string, message: string): ComposeDiagnostic {
    const line = this.source.lineOf(path);
    const service = this.serviceOf(path);
    return {
      severity,
      code,
      message,
      ...(this.source.file === undefined ? {} : { file: this.source.file }),
      ...(line === undefined ? {} : { line }),
      ...(path.length === 0 ? {} : { path: formatKeyPath(path) }),
      ...(service === undefined ? {} : { service }),
    };
  }
}

/** "compose.yaml:12 services.web.ports[0] (web): invalid port ..." — one readable line. */
export function formatDiagnostic(d: ComposeDiagnostic): string {
  const where = `${d.file ?? '<input>'}${d.line === undefined ? '' : `:${d.line}`}`;
  const path = d.path === undefined ? '' : ` ${d.path}`;
  const service = d.service === undefined ? '' : ` (${d.service})`;
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return `${where}${path}${service}: ${prefix}${d.message} [${d.code}]`;
}
