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
}
