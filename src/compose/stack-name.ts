/**
 * The stack name: the `stackName` option, else `name:` in the file, else the name of the
 * directory holding the file (lowercased, other characters dropped, as Compose derives project
 * names). Explicit names are validated, not rewritten: lowercase letters, digits, "-" and "_",
 * starting with a letter or digit, so they are usable in container and volume names.
 */
import { basename, dirname, resolve } from 'node:path';

export const stackNamePattern = /^[a-z0-9][a-z0-9_-]*$/;

export type StackNameResult =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly message: string; readonly fromFile: boolean };

export function resolveStackName(options: { stackName?: string; nameInFile?: unknown; file?: string }): StackNameResult {
  const explicit = options.stackName ?? (typeof options.nameInFile === 'string' ? options.nameInFile : undefined);
  if (explicit !== undefined) {
    if (stackNamePattern.test(explicit)) return { ok: true, name: explicit };
    return {
      ok: false,
      fromFile: options.stackName === undefined,
      message: `stack name ${JSON.stringify(explicit)} is invalid: use lowercase letters, digits, "-" and "_", starting with a letter or digit`,
    };
  }
  if (options.file !== undefined) {
    const derived = basename(dirname(resolve(options.file))).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
    if (derived !== '') return { ok: true, name: derived };
  }
  return { ok: false, fromFile: false, message: 'no stack name: pass one, or set "name:" in the file' };
}
