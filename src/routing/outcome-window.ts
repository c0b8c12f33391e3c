// The last N success/failure results of one key: a success rate that forgets old history in bounded memory.

/** Bits per word: small integers, which V8 keeps unboxed in a plain array. */
const BITS_PER_WORD = 30;

export class OutcomeWindow {
  /**
   * Ring buffer of failure bits (1 = failure), packed into small integers. Health is kept for every key with an
   * outcome, tens of thousands on a large network: at the default size of 50 a Uint8Array cost 320 bytes per key,
   * the window with its two words costs about 130.
   */
  private readonly failed: number[];
  private next = 0;
  private filled = 0;
  private failures = 0;

  constructor(private readonly size: number) {
    this.failed = new Array<number>(Math.ceil(size / BITS_PER_WORD)).fill(0);
  }

  push(failure: boolean): void {
    const word = (this.next / BITS_PER_WORD) | 0;
    const bit = 1 << this.next % BITS_PER_WORD;
    const bits = this.failed[word] as number;
    if (this.filled === this.size) {
      if ((bits & bit) !== 0) this.failures--;
    } else {
      this.filled++;
    }
    this.failed[word] = failure ? bits | bit : bits & ~bit;
    if (failure) this.failures++;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
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
