/**
 * Turns Ajv's raw errors into a few precise diagnostics. Ajv reports every failed branch of a
 * `oneOf` ("must be number", "must be string", "must be object", "must match exactly one
 * schema"), which reads as noise; users need the one thing that is wrong and where. So: keep only
 * the deepest failing locations, merge type alternatives into one sentence, and name unknown keys
 * by their full path. Shared by the compose loader and the config loader.
 */
import type { ErrorObject } from 'ajv';
import { formatKeyPath, type KeyPath, type PathSegment, type YamlSource } from './yaml-source.ts';
import type { ComposeDiagnostic } from './types.ts';

export interface SchemaProblem {
  readonly code: string;
  readonly message: string;
  readonly path: KeyPath;
}

/** Codes are `${prefix}_UNKNOWN_KEY`, `${prefix}_WRONG_TYPE`, `${prefix}_INVALID_VALUE`. */
export function schemaProblems(errors: readonly ErrorObject[], value: unknown, codePrefix: string): SchemaProblem[] {
  // An unknown key is located at the key itself, so it is never hidden by a deeper error beside it.
  const located = errors.map((error) => {
    const path = pointerToPath(error.instancePath, value);
    const unknownKey = error.keyword === 'additionalProperties' ? (error.params as { additionalProperty: string }).additionalProperty : undefined;
    return { error, path: unknownKey === undefined ? path : [...path, unknownKey] };
  });
  // Combinator errors only say "a branch failed"; the branch errors underneath are the useful ones.
  const concrete = located.filter(({ error }) => !['oneOf', 'anyOf', 'allOf', 'if', 'not'].includes(error.keyword));
  const candidates = concrete.length > 0 ? concrete : located;
  const deepest = candidates.filter(({ path }) =>
    !candidates.some((other) => other.path.length > path.length && startsWith(other.path, path)));

  const problems: SchemaProblem[] = [];
  const byPath = new Map<string, typeof deepest>();
  for (const entry of deepest) {
    const key = JSON.stringify(entry.path);
    byPath.set(key, [...(byPath.get(key) ?? []), entry]);
  }
  for (const entries of byPath.values()) {
    const path = entries[0]!.path;
    const unknownKeys = entries.filter(({ error }) => error.keyword === 'additionalProperties');
    for (const { path: keyPath } of unknownKeys) {
      problems.push({ code: `${codePrefix}_UNKNOWN_KEY`, message: `unknown key "${String(keyPath[keyPath.length - 1])}"`, path: keyPath });
    }
    if (unknownKeys.length > 0) continue;
    const types = entries.filter(({ error }) => error.keyword === 'type');
    if (types.length > 0 && types.length === entries.length) {
      const expected = [...new Set(types.flatMap(({ error }) => String((error.params as { type: string | string[] }).type).split(',')))];
      problems.push({
        code: `${codePrefix}_WRONG_TYPE`,
        message: `must be ${joinAlternatives(expected.map(article))}, got ${describe(valueAt(value, path))}`,
        path,
      });
      continue;
    }
    const seen = new Set<string>();
    for (const { error } of entries) {
      const message = describeError(error);
      if (seen.has(message)) continue;
      seen.add(message);
      problems.push({ code: `${codePrefix}_INVALID_VALUE`, message, path });
    }
  }
  return problems;
}

export function schemaDiagnostics(
  errors: readonly ErrorObject[],
  source: YamlSource,
  codePrefix: string,
  serviceOf: (path: KeyPath) => string | undefined = () => undefined,
): ComposeDiagnostic[] {
  return schemaProblems(errors, source.value, codePrefix).map((problem) => {
    const service = serviceOf(problem.path);
    const line = source.lineOf(problem.path);
    return {
      severity: 'error' as const,
      code: problem.code,
      message: problem.message,
      ...(source.file === undefined ? {} : { file: source.file }),
      ...(line === undefined ? {} : { line }),
      path: formatKeyPath(problem.path),
      ...(service === undefined ? {} : { service }),
    };
  });
}

function describeError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required':
      return `missing required key "${String(params.missingProperty)}"`;
    case 'pattern':
      return `must match the pattern ${String(params.pattern)}`;
    case 'uniqueItems':
      return `items ${String(params.j)} and ${String(params.i)} are duplicates; items must be unique`;
    default:
      return error.message ?? `fails the schema rule "${error.keyword}"`;
  }
}

function pointerToPath(pointer: string, value: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let current: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      path.push(Number(segment));
      current = current[Number(segment)];
    } else {
      path.push(segment);
      current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

function valueAt(value: unknown, path: KeyPath): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment as string];
  }
  return current;
}

function startsWith(path: KeyPath, prefix: KeyPath): boolean {
  return prefix.every((segment, index) => path[index] === segment);
}

function article(type: string): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function joinAlternatives(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
