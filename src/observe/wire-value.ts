import { REDACTED, redactEnvEntry, type Redactor } from './redaction.ts';

/** Bounds that keep one frame small whatever an actor holds (the Raft role's context holds its log). */
export interface WireLimits {
  readonly maxDepth: number;
  readonly maxArrayItems: number;
  readonly maxKeys: number;
  readonly maxStringLength: number;
}

export const defaultWireLimits: WireLimits = { maxDepth: 8, maxArrayItems: 50, maxKeys: 200, maxStringLength: 2000 };

/**
 * Turns anything an actor holds (snapshots, contexts, events) into plain JSON and sanitizes it in
 * the same pass: actor references become `{xstate$$type: 1, id}` (as XState's own toJSON does),
 * functions their name, Maps and Sets plain objects and arrays, cycles and overly deep or long
 * values a marker. Redaction happens here, so no code path can serialize around it.
 */
export function toWireValue(value: unknown, redactor: Redactor, limits: WireLimits = defaultWireLimits): unknown {
  const seen = new WeakSet<object>();
  const walk = (current: unknown, depth: number, key: string | undefined): unknown => {
    if (key !== undefined && redactor.isSecretKey(key) && current !== undefined && current !== null && current !== '') return REDACTED;
    switch (typeof current) {
      case 'string': {
        const clean = redactor.redactString(current);
        return clean.length > limits.maxStringLength ? `${clean.slice(0, limits.maxStringLength)}… (${clean.length} chars)` : clean;
      }
      case 'number': return Number.isFinite(current) ? current : String(current);
      case 'boolean': return current;
      case 'bigint': return current.toString();
      case 'function': return { type: current.name || 'anonymous' };
      case 'undefined': case 'symbol': return undefined;
    }
    if (current === null) return null;
    const object = current as Record<string, unknown>;
    if (isActorRef(object)) return { xstate$$type: 1, id: String(object.id) };
    if (seen.has(object)) return '[circular]';
    if (depth >= limits.maxDepth) return '[too deep]';
    if (object instanceof Date) return object.toISOString();
    if (object instanceof Error) return { name: object.name, message: redactor.redactString(object.message), ...('code' in object ? { code: String(object.code) } : {}) };
    seen.add(object);
    try {
      if (key !== undefined && redactor.isEnvKey(key)) return redactEnvironment(object);
      if (Array.isArray(object) || object instanceof Set) {
        const items = [...(object as Iterable<unknown>)];
        const shown = items.slice(0, limits.maxArrayItems).map((item) => walk(item, depth + 1, undefined) ?? null);
        if (items.length > limits.maxArrayItems) shown.push(`… ${items.length - limits.maxArrayItems} more`);
        return shown;
      }
      const entries = object instanceof Map ? [...object.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(jsonView(object));
      const out: Record<string, unknown> = {};
      let count = 0;
      for (const [entryKey, entryValue] of entries) {
        if (count++ >= limits.maxKeys) {
          out['…'] = `${entries.length - limits.maxKeys} more keys`;
          break;
        }
        const converted = walk(entryValue, depth + 1, entryKey);
        if (converted !== undefined) out[entryKey] = converted;
      }
      return out;
    } finally {
      seen.delete(object);
    }
  };
  return walk(value, 0, undefined);
}

function isActorRef(object: Record<string, unknown>): boolean {
  return typeof object.sessionId === 'string' && typeof object.send === 'function' && typeof object.getSnapshot === 'function';
}

/** A machine snapshot's toJSON drops the machine and helpers; anything else is used as it is. */
function jsonView(object: Record<string, unknown>): Record<string, unknown> {
  const toJSON = object.toJSON;
  if (typeof toJSON === 'function') {
    const view = (toJSON as () => unknown).call(object);
    if (typeof view === 'object' && view !== null) return view as Record<string, unknown>;
  }
  return object;
}

/** `{NAME: value}` → `{NAME: "<redacted>"}`; `["NAME=value"]` → `["NAME=<redacted>"]`. */
function redactEnvironment(value: object): unknown {
  if (Array.isArray(value)) return value.slice(0, 500).map((entry) => (typeof entry === 'string' ? redactEnvEntry(entry) : REDACTED));
  const out: Record<string, string> = {};
  for (const name of Object.keys(value).slice(0, 500)) out[name] = REDACTED;
  return out;
}
