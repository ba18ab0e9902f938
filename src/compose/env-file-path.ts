/**
 * Where the loader may read env files from. The daemon reads `.env` and `env_file` on behalf of
 * API clients and returns what it read (values land in the spec that GET /v1/services shows), so
 * a deploy must not be able to name any file on the daemon's host: only files inside the working
 * directory are read. An env_file that is absolute, starts with "~", or resolves outside the
 * working directory — lexically (after "..") or through a symlink (compared on real paths when
 * the file exists) — is refused with COMPOSE_ENV_FILE_OUTSIDE_WORKING_DIR. The CLI's --dry-run
 * loads with the same rule, so it predicts what the daemon accepts.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import type { KeyPath } from './yaml-source.ts';

export type ConfinedPath =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly why: string };

/**
 * The path to read for `candidate` (absolute) if it lies inside `workingDir`: its real path when
 * it exists — so what was checked is what gets read — else the normalized path (reading it fails).
 */
export function confineToWorkingDir(workingDir: string, candidate: string, realPath: (path: string) => string | undefined): ConfinedPath {
  const base = resolve(workingDir);
  const lexical = resolve(base, candidate);
  if (!isInside(base, lexical)) return { ok: false, why: 'resolves outside the working directory' };
  const real = realPath(lexical);
  if (real === undefined) return { ok: true, path: lexical };
  if (!isInside(realPath(base) ?? base, real)) return { ok: false, why: 'is a symbolic link (or under one) to a file outside the working directory' };
  return { ok: true, path: real };
}

function isInside(base: string, path: string): boolean {
  const rel = relative(base, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The file to read for an env_file entry; reports at `path` and returns undefined when refused. */
export function resolveEnvFilePath(source: string, path: KeyPath, ctx: NormalizeContext): string | undefined {
  const refuse = (why: string): undefined => {
    const where = ctx.workingDir === undefined ? 'and this deploy has no working directory' : `(${ctx.workingDir})`;
    ctx.sink.error(path, composeCodes.envFileOutsideWorkingDir,
      `env_file ${JSON.stringify(source)} ${why}: env files are read only from inside the working directory ${where}; put the file there and name it by a relative path`);
    return undefined;
  };
  if (source.startsWith('~')) return refuse('starts with "~"');
  if (isAbsolute(source)) return refuse('is an absolute path');
  if (ctx.workingDir === undefined) {
    ctx.sink.error(path, composeCodes.relativePathWithoutWorkingDir,
      `relative path ${JSON.stringify(source)} needs a working directory; load the file from disk or pass workingDir`);
    return undefined;
  }
  const confined = confineToWorkingDir(ctx.workingDir, source, ctx.realPath);
  return confined.ok ? confined.path : refuse(confined.why);
}
