// A retry budget per capability, in the manner of Finagle's and Envoy's: retries may be at most a share of the
// requests seen recently, plus a small floor so that a quiet gateway can still retry. When a whole capability is
// failing, every job would otherwise multiply into maxAttempts requests against a network already in trouble.

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt, over the window (0.2 = one retry per five jobs). */
  ratio: number;
  /** Retries always allowed per second of window, whatever the traffic. */
  minPerSecond: number;
  windowMs: number;
}

export const DEFAULT_RETRY_BUDGET: Readonly<RetryBudgetOptions> = Object.freeze({ ratio: 0.2, minPerSecond: 10, windowMs: 10_000 });

const SLOTS = 10;

/** Counts in a ring of SLOTS time slots covering the window. */
class SlidingCount {
  private readonly counts = new Array<number>(SLOTS).fill(0);
  private readonly slotStart = new Array<number>(SLOTS).fill(-1);

  constructor(private readonly slotMs: number) {}

  add(now: number): void {
    const slot = Math.floor(now / this.slotMs);
    const index = slot % SLOTS;
    if (this.slotStart[index] !== slot) {
      this.slotStart[index] = slot;
      this.counts[index] = 0;
    }
    this.counts[index] = (this.counts[index] ?? 0) + 1;
  }

  total(now: number): number {
    const current = Math.floor(now / this.slotMs);
    let sum = 0;
    for (let i = 0; i < SLOTS; i++) {
      const start = this.slotStart[i] ?? -1;
      if (start > current - SLOTS && start <= current) sum += this.counts[i] ?? 0;
    }
    return sum;
  }
}

interface CapabilityBudget {
  requests: SlidingCount;
  retries: SlidingCount;
}

export class RetryBudget {
  private readonly budgets = new Map<string, CapabilityBudget>();
  private readonly slotMs: number;

  constructor(
    private readonly options: RetryBudgetOptions = DEFAULT_RETRY_BUDGET,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.ratio >= 0) || !(options.minPerSecond >= 0) || !(options.windowMs > 0)) {
      throw new RangeError(`retry budget: ratio and minPerSecond must be >= 0 and windowMs > 0`);
    }
    this.slotMs = Math.max(1, Math.ceil(options.windowMs / SLOTS));
  }

  /** A job's first attempt. */
  recordRequest(capability: string): void {
    this.budgetFor(capability).requests.add(this.now());
  }

  /** Takes one retry from the budget; false when it is spent (the job should fail instead of retrying). */
  tryRetry(capability: string): boolean {
    const budget = this.budgetFor(capability);
    const now = this.now();
    const allowed = this.options.minPerSecond * (this.options.windowMs / 1000) + this.options.ratio * budget.requests.total(now);
    if (budget.retries.total(now) + 1 > allowed) return false;
    budget.retries.add(now);
    return true;
  }

  private budgetFor(capability: string): CapabilityBudget {
    let budget = this.budgets.get(capability);
    if (budget === undefined) {
      budget = { requests: new SlidingCount(this.slotMs), retries: new SlidingCount(this.slotMs) };
      this.budgets.set(capability, budget);
    }
    return budget;
  }
}
