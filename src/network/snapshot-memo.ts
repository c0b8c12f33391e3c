// Values derived from a whole snapshot (an API listing, a JSON body), worked out once per snapshot and key. A snapshot
// never changes, so what is derived from it never goes stale; the values go when the snapshot does.
import type { NetworkSnapshot } from "./snapshot.js";

export class SnapshotMemo<T> {
  private readonly bySnapshot = new WeakMap<NetworkSnapshot, Map<string, T>>();

  /**
   * The value under `key` for `snapshot`, built on first use. Keys must come from a small set (e.g. a capability the
   * snapshot offers, not any string a client sends): every key of a snapshot is kept as long as the snapshot is.
   */
  get(snapshot: NetworkSnapshot, key: string, build: () => T): T {
    let values = this.bySnapshot.get(snapshot);
    if (values === undefined) this.bySnapshot.set(snapshot, (values = new Map()));
    let value = values.get(key);
    if (value === undefined) {
      value = build();
      values.set(key, value);
    }
    return value;
  }

  /** As get, for a value built asynchronously: a build that fails is forgotten, so that the next call tries again. */
  getAsync<V>(this: SnapshotMemo<Promise<V>>, snapshot: NetworkSnapshot, key: string, build: () => Promise<V>): Promise<V> {
    return this.get(snapshot, key, () => {
      const value = build();
      value.catch(() => this.delete(snapshot, key));
      return value;
    });
  }

  /** Forgets the value under `key` for `snapshot`, so that the next get builds it again. */
  delete(snapshot: NetworkSnapshot, key: string): void {
    this.bySnapshot.get(snapshot)?.delete(key);
  }
}
