/**
 * Records keyed by user strings (client ids, stack, service and node names, keys). They have no
 * prototype, so `__proto__`, `constructor` or `toString` are ordinary keys: on a plain object
 * `record['__proto__'] = x` replaces the prototype instead of storing an entry (JSON then drops
 * it, and a member restored from a snapshot diverges from a live one), and a lookup of a missing
 * `constructor` finds Object.prototype's.
 *
 * Prototype-free records rather than Maps keep the state's shape (and its JSON on disk) as it
 * was, so every reader of `view()` goes on working unchanged.
 */
export function emptyDictionary<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** A prototype-free copy of `source`'s own entries, each optionally rebuilt by `each`. */
export function dictionaryOf<V>(source: Readonly<Record<string, V>> | undefined, each?: (value: V) => V): Record<string, V> {
  const result = emptyDictionary<V>();
  if (source === undefined || source === null) return result;
  // Plain assignment on a prototype-free target creates an own property even for "__proto__".
  for (const [key, value] of Object.entries(source)) result[key] = each ? each(value) : value;
  return result;
}
