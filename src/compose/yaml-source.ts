/**
 * YAML parsing that keeps source positions, shared by the compose loader and the config loader:
 * every later diagnostic (schema, interpolation, normalization) is reported at the line of the key
 * it is about, so we parse once into a Document and look paths up in it afterwards.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ComposeDiagnostic } from './types.ts';

export type PathSegment = string | number;
export type KeyPath = readonly PathSegment[];

export interface YamlSource {
  readonly file?: string;
  /** The plain JavaScript value of the document (aliases and `<<` merge keys resolved). */
  readonly value: unknown;
  /**
   * The 1-based line of the key (for a map entry) or item (for a list entry) at `path`. A path
   * that does not exist in the text (e.g. it came from a `<<` merge) falls back to the deepest
   * ancestor that does.
   */
  lineOf(path: KeyPath): number | undefined;
}

export type YamlParseResult =
  | { readonly ok: true; readonly source: YamlSource }
  | { readonly ok: false; readonly errors: ComposeDiagnostic[] };

/** Aliases can expand exponentially ("billion laughs"); this bounds the work per document. */
const maxAliasCount = 1000;

export function parseYamlSource(content: string, options: { file?: string; codePrefix: string }): YamlParseResult {
  const { file, codePrefix } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(content, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    // The first only: one indentation mistake makes the parser report every line after it too.
    return {
      ok: false,
      errors: doc.errors.slice(0, 1).map((error) => ({
        severity: 'error' as const,
        code: `${codePrefix}_YAML_SYNTAX`,
        message: `invalid YAML: ${firstLine(error.message)}`,
        ...(file === undefined ? {} : { file }),
        line: lineAt(firstVisible(content, error.pos[0], error.pos[1])),
      })),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (error) {
    return {
      ok: false,
      errors: [{
        severity: 'error',
        code: `${codePrefix}_YAML_SYNTAX`,
        message: `invalid YAML: ${error instanceof Error ? error.message : String(error)}`,
        ...(file === undefined ? {} : { file }),
        line: 1,
      }],
    };
  }
  return {
    ok: true,
    source: {
      ...(file === undefined ? {} : { file }),
      value,
      lineOf: (path) => {
        const offset = offsetOf(doc, path);
        return offset === undefined ? undefined : lineAt(offset);
      },
    },
  };
}

/**
 * The parser's range for a bad indentation starts at the end of the line before the culprit:
 * point at the first character that is not blank inside the range, where the user must look.
 */
function firstVisible(content: string, start: number, end: number): number {
  let offset = start;
  while (offset < end && /\s/.test(content[offset] ?? '')) offset += 1;
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function offsetOf(doc: Document, path: KeyPath): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = rangeStart(node);
  for (const segment of path) {
    node = resolveAlias(doc, node);
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return best;
      best = rangeStart(pair.key) ?? rangeStart(pair.value) ?? best;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) return best;
      best = rangeStart(item) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function resolveAlias(doc: Document, node: unknown): unknown {
  let current = node;
  // An alias can point to another alias only through anchors defined earlier, so this terminates.
  for (let hops = 0; isAlias(current) && hops < maxAliasCount; hops += 1) current = current.resolve(doc);
  return current;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** "services.web.ports[0]"; keys that are not plain identifiers are quoted: environment["a.b"]. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
