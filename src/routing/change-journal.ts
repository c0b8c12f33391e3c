// A bounded record of which health keys changed, in order, so that rankings built from health can catch up on just
// those keys instead of re-reading every key on every decision. Readers keep their own cursor; nobody subscribes,
// so a ranking that is dropped (its snapshot replaced) leaves nothing behind.

export interface ChangeReader {
  /** The cursor that reads from now on. */
  readonly cursor: number;
  /**
   * Calls `visit` with every key changed since `cursor` (a key may come more than once) and returns the new cursor;
   * returns -1 without visiting when the journal has already overwritten some of them (the reader must start over).
   */
  readSince(cursor: number, visit: (key: string) => void): number;
}

export class ChangeJournal implements ChangeReader {
  private readonly keys: string[];
  private written = 0;

  constructor(private readonly capacity = 8192) {
    this.keys = new Array<string>(capacity);
  }

  get cursor(): number {
    return this.written;
  }

  add(key: string): void {
    this.keys[this.written % this.capacity] = key;
    this.written++;
  }

  readSince(cursor: number, visit: (key: string) => void): number {
    if (cursor > this.written || this.written - cursor > this.capacity) return -1;
    for (let i = cursor; i < this.written; i++) visit(this.keys[i % this.capacity] as string);
    return this.written;
  }
}
