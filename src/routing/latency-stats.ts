// Exponentially weighted mean and variance of latency: O(1) memory, recent samples weigh most.

export class LatencyStats {
  private count = 0;
  private mean = 0;
  private variance = 0;

  /** West's incremental update, so the variance tracks the same recent samples as the mean. */
  add(latencyMs: number, alpha: number): void {
    if (this.count === 0) {
      this.mean = latencyMs;
    } else {
      const diff = latencyMs - this.mean;
      const increment = alpha * diff;
      this.mean += increment;
      this.variance = (1 - alpha) * (this.variance + diff * increment);
    }
    this.count++;
  }

  get samples(): number {
    return this.count;
  }

  get meanMs(): number | undefined {
    return this.count === 0 ? undefined : this.mean;
  }

  /** undefined until there are two samples: one sample has no spread. */
  get stdDevMs(): number | undefined {
    return this.count < 2 ? undefined : Math.sqrt(this.variance);
  }

  /** Standard deviation relative to the mean, so fast and slow capabilities compare on one scale. */
  get coefficientOfVariation(): number | undefined {
    if (this.count < 2 || this.mean <= 0) return undefined;
    return Math.sqrt(this.variance) / this.mean;
  }
}
