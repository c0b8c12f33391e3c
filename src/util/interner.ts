// One copy of each equal string. Every orchestrator's reply decodes its own copies of the same model ids, runner
// versions and capability names; kept in the index, 10,000 orchestrators' worth of copies is tens of MB.
export class Interner {
  private readonly strings = new Map<string, string>();

  /** The first equal string this interner saw, else `value` itself (which it remembers). */
  intern(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    this.strings.set(value, value);
    return value;
  }

  get size(): number {
    return this.strings.size;
  }
}
