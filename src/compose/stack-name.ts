/**
 * The one rule for stack names, shared by the compose loader (and so `deploy --dry-run`), the API
 * and the CLI, so a name one of them accepts is never refused by another.
 *
 * Stack names become part of container names (`<stack>_<service>_<slot>`), service ids
 * (`<stack>_<service>`) and volume names (`<stack>_<volume>`): `_` is the separator, so a stack
 * name may not contain it, or `a_b` + service `c` and stack `a` + service `b_c` would collide.
 * Lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters, so
 * names are valid Docker and DNS labels and match compose project names.
 *
 * Where the name comes from: the `stackName` option (the CLI's --stack, the API's `stack`), else
 * `name:` in the file, else the name of the directory holding the file. Explicit names are
 * validated, not rewritten; a directory name is derived with `stackNameFromDirectory`.
 */
import { basename, dirname, resolve } from 'node:path';

export const stackNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** How to write a valid name, for error messages. */
export const stackNameRule = 'use 1-63 lowercase letters, digits or "-", starting with a letter or digit ("_" separates stack and service in container names)';

export function isValidStackName(name: string): boolean {
  return stackNamePattern.test(name);
}

/**
 * Compose's derivation of a project name from a directory, except that `_` and every other
 * character outside the rule become "-" (instead of being kept or dropped), so `My_App.v2` →
 * `my-app-v2`. Returns "" when nothing usable is left (e.g. "/" or "__").
 */
export function stackNameFromDirectory(directoryName: string): string {
  return directoryName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}

export type StackNameResult =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly message: string; readonly fromFile: boolean };

export function resolveStackName(options: { stackName?: string; nameInFile?: unknown; file?: string }): StackNameResult {
  // An empty `name:` means "not set", as in Compose; an empty explicit name is refused.
  const explicit = options.stackName ?? (typeof options.nameInFile === 'string' && options.nameInFile !== '' ? options.nameInFile : undefined);
  if (explicit !== undefined) {
    if (isValidStackName(explicit)) return { ok: true, name: explicit };
    return {
      ok: false,
      fromFile: options.stackName === undefined,
      message: `stack name ${JSON.stringify(explicit)} is invalid: ${stackNameRule}`,
    };
  }
  if (options.file !== undefined) {
    const derived = stackNameFromDirectory(basename(dirname(resolve(options.file))));
    if (derived !== '') return { ok: true, name: derived };
  }
  return { ok: false, fromFile: false, message: 'no stack name: pass one (--stack), or set "name:" in the file' };
}
