/**
 * `environment:`, `env_file:` and label-like `list_or_dict` keys → string maps.
 * environment: list ["K=V", "K"] or map {K: V}; a K without a value takes its value from the
 * interpolation environment and is left out when unset there (as Compose does).
 * env_file: a path, a list of paths, or a list of { path, required (default true) }; files are
 * read in order (later wins), relative to the working directory and only from inside it (see
 * env-file-path.ts), and `environment:` wins over them.
 */
import { composeCodes } from './compose-codes.ts';
import { defineEntry } from './define-entry.ts';
import { parseDotenv } from './dotenv.ts';
import { resolveEnvFilePath } from './env-file-path.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { maxEnvFileBytes } from './read-host-file.ts';

export function normalizeEnvironment(environment: unknown, envFile: unknown, ctx: NormalizeContext): Record<string, string> {
  const fromFiles = readEnvFiles(envFile, ctx);
  const explicit = listOrDict(environment, (key) => ctx.lookup(key));
  return { ...fromFiles, ...explicit };
}

/** Labels: list ["k=v", "k"] or map; a k without a value is the empty string. */
export function normalizeLabels(raw: unknown): Record<string, string> {
  return listOrDict(raw, () => '');
}

function listOrDict(raw: unknown, valueless: (key: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, value: string | undefined): void => {
    if (value !== undefined) defineEntry(out, key, value);
  };
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const text = String(item);
      const equals = text.indexOf('=');
      if (equals === -1) put(text, valueless(text));
      else put(text.slice(0, equals), text.slice(equals + 1));
    }
  } else if (raw !== null && typeof raw === 'object') {
    for (const [key, value] of Object.entries(raw)) {
      put(key, value === null || value === undefined ? valueless(key) : String(value));
    }
  }
  return out;
}

function readEnvFiles(raw: unknown, ctx: NormalizeContext): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  const entries = (Array.isArray(raw) ? raw : [raw]).map((item: unknown, index) => {
    const path = Array.isArray(raw) ? [...ctx.servicePath, 'env_file', index] : [...ctx.servicePath, 'env_file'];
    if (typeof item === 'string') return { file: item, required: true, path };
    const long = item as { path: string; required?: boolean | string; format?: string };
    if (long.format !== undefined) {
      ctx.sink.warning([...path, 'format'], composeCodes.ignoredKey, `env_file format "${long.format}" is not honoured; the file is read as a .env file`);
    }
    return { file: long.path, required: long.required !== false && long.required !== 'false', path };
  });
  const values: Record<string, string> = {};
  for (const { file, required, path } of entries) {
    const absolute = resolveEnvFilePath(file, path, ctx);
    if (absolute === undefined) continue;
    const content = ctx.readTextFile(absolute);
    if (content === undefined) {
      if (required) {
        ctx.sink.error(path, composeCodes.envFileMissing,
          `env_file ${absolute} cannot be read: it is missing, unreadable, not a regular file or over ${maxEnvFileBytes / 1024 / 1024} MiB (set "required: false" to make it optional)`);
      }
      continue;
    }
    const parsed = parseDotenv(content, ctx.lookup);
    // Line number and what is wrong, never the line itself (dotenv.ts says why).
    for (const issue of parsed.errors) {
      ctx.sink.error(path, composeCodes.dotenvInvalid, `${absolute}:${issue.line}: ${issue.message}`);
    }
    // Not Object.assign: it assigns, and would drop a "__proto__" entry.
    for (const [key, value] of Object.entries(parsed.values)) defineEntry(values, key, value);
  }
  return values;
}
