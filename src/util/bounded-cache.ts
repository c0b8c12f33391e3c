// A map that starts over once it holds `limit` entries. For caches whose keys repeat in practice but come from
// clients (price caps, job URLs, jobs): a flood of distinct keys cannot grow memory, and the common case stays one
// Map lookup with no recency bookkeeping.
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.entries.size >= this.limit && !this.entries.has(key)) this.entries.clear();
    this.entries.set(key, value);
  }

  /** The cached value, or create()'s, cached. */
  getOrCreate(key: K, create: () => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = create();
      this.set(key, value);
    }
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
