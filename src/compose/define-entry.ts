/**
 * Adds `key` as an own entry of a plain record. Assignment would not do for user keys:
 * `record['__proto__'] = value` sets the record's prototype (or does nothing for a string) and the
 * entry is silently lost. Defining it makes it an own property, as JSON.parse and the YAML parser
 * do, so it is listed by Object.entries and survives JSON.
 */
export function defineEntry<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
