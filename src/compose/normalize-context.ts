/** What every per-key normalizer needs: where it is, how to report, and how to resolve paths. */
import type { DiagnosticSink } from './diagnostics.ts';
import type { VariableLookup } from './interpolate.ts';
import type { NetworkSpec } from './types.ts';
import type { KeyPath } from './yaml-source.ts';

export interface NormalizeContext {
  readonly service: string;
  /** Path of the service in the file: ['services', name]. */
  readonly servicePath: KeyPath;
  /** Relative bind mounts and env_file paths resolve against this; undefined refuses them. */
  readonly workingDir?: string;
  readonly homeDir: string;
  /** The interpolation environment (given env over `.env`), used for `KEY` without a value. */
  readonly lookup: VariableLookup;
  /** Volume names declared under the top-level `volumes:` → the engine volume name to use. */
  readonly declaredVolumes: ReadonlyMap<string, string>;
  /** The stack's networks by key (the top-level `networks:` plus `default`). */
  readonly declaredNetworks: ReadonlyMap<string, NetworkSpec>;
  readonly sink: DiagnosticSink;
  /** Undefined when the file is missing, unreadable, not a regular file or too large. */
  readonly readTextFile: (absolutePath: string) => string | undefined;
  /** The path with symlinks followed, or undefined when it does not exist. */
  readonly realPath: (absolutePath: string) => string | undefined;
}
