/**
 * Applies interpolation to every string value of a parsed compose document (keys are left alone,
 * as in Compose) and reports problems at the key path of the value they came from.
 */
import { composeCodes } from './compose-codes.ts';
import { defineEntry } from './define-entry.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { interpolateString, type VariableLookup } from './interpolate.ts';
import type { KeyPath } from './yaml-source.ts';

export function interpolateDocument(value: unknown, lookup: VariableLookup, sink: DiagnosticSink): unknown {
  const warnedUnset = new Set<string>();
  const walk = (node: unknown, path: KeyPath): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('$')) return node;
      const result = interpolateString(node, lookup);
      for (const issue of result.errors) {
        const code = issue.kind === 'required' ? composeCodes.requiredVariable : composeCodes.interpolationSyntax;
        sink.error(path, code, issue.message);
      }
      for (const name of result.unset) {
        // One warning per variable per file is enough to notice a typo; more is noise.
        if (warnedUnset.has(name)) continue;
        warnedUnset.add(name);
        sink.warning(path, composeCodes.unsetVariable, `variable ${name} is not set; using an empty string`);
      }
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      // Keys are user strings: "__proto__" must stay an entry (see define-entry.ts).
      for (const [key, child] of Object.entries(node)) defineEntry(out, key, walk(child, [...path, key]));
      return out;
    }
    return node;
  };
  return walk(value, []);
}
