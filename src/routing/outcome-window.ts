// The last N success/failure results of one key: a success rate that forgets old history in bounded memory.

export class OutcomeWindow {
  private readonly failed: Uint8Array; // ring buffer: 1 = failure, 0 = success
  private next = 0;
  private filled = 0;
  private failures = 0;

  constructor(size: number) {
    this.failed = new Uint8Array(size);
  }

  push(failure: boolean): void {
    const size = this.failed.length;
    if (this.filled === size) this.failures -= this.failed[this.next] as number;
    else this.filled++;
    const bit = failure ? 1 : 0;
    this.failed[this.next] = bit;
    this.failures += bit;
    this.next = this.next + 1 === size ? 0 : this.next + 1;
  }

  /** Forgets every outcome. */
  clear(): void {
    this.failed.fill(0);
    this.next = 0;
    this.filled = 0;
    this.failures = 0;
  }

  get samples(): number {
    return this.filled;
  }

  /** Share of successes in the window; 1 when it is empty (innocent until proven otherwise). */
  get successRate(): number {
    return this.filled === 0 ? 1 : (this.filled - this.failures) / this.filled;
  }
}
