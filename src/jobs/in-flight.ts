// Counts of jobs running per key, capped: per (orchestrator, capability), because go-livepeer orchestrators never
// refuse a BYOC job for capacity (their Load counter only feeds the token's available_capacity, and resets when a
// worker registers again), so the gateway caps itself at what the orchestrator advertised; and per client.

export class InFlight {
  private readonly counts = new Map<string, number>();

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Takes a slot when fewer than limit are running; returns the release function, or undefined when full. */
  tryAcquire(key: string, limit: number): (() => void) | undefined {
    const current = this.counts.get(key) ?? 0;
    if (current >= limit) return undefined;
    this.counts.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }
}

export function orchestratorCapabilityKey(orchestratorUri: string, capability: string): string {
  return `${orchestratorUri}\n${capability}`;
}
