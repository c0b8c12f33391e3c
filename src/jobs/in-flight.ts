// The gateway's own count of jobs running per (orchestrator, capability). go-livepeer orchestrators never refuse a
// BYOC job for capacity (their Load counter only feeds the token's available_capacity, and resets when a worker
// registers again), so the gateway caps itself at what the orchestrator advertised.

export class InFlight {
  private readonly counts = new Map<string, number>();

  private static key(orchestratorUri: string, capability: string): string {
    return `${orchestratorUri}\n${capability}`;
  }

  count(orchestratorUri: string, capability: string): number {
    return this.counts.get(InFlight.key(orchestratorUri, capability)) ?? 0;
  }

  /** Takes a slot when fewer than limit jobs are running; returns the release function, or undefined when full. */
  tryAcquire(orchestratorUri: string, capability: string, limit: number): (() => void) | undefined {
    const key = InFlight.key(orchestratorUri, capability);
    const current = this.counts.get(key) ?? 0;
    if (current >= limit) return undefined;
    this.counts.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.counts.get(key) ?? 1) - 1;
      if (now <= 0) this.counts.delete(key);
      else this.counts.set(key, now);
    };
  }
}
