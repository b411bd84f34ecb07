/**
 * A bounded map that forgets the least recently used key first. A Map keeps insertion order,
 * so a read moves the key to the end and eviction takes the first key.
 */
export interface LruCache<V> {
  /** The value, marking the key as just used. */
  get(key: string): V | undefined;
  /** The value, leaving the order alone. */
  peek(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  keys(): IterableIterator<string>;
  readonly size: number;
}

export function createLruCache<V>(maxEntries: number): LruCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  const map = new Map<string, V>();
  return {
    get(key) {
      const v = map.get(key);
      if (v !== undefined) {
        map.delete(key);
        map.set(key, v);
      }
      return v;
    },
    peek: (key) => map.get(key),
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      if (map.size > maxEntries) map.delete(map.keys().next().value as string);
    },
    delete(key) {
      map.delete(key);
    },
    keys: () => map.keys(),
    get size() {
      return map.size;
    },
  };
}
