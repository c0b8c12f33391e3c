// Remembers recent routing decisions so that ReportOutcome can be checked against what was actually offered.
// Bounded in size and age: an abandoned route costs nothing after its time.

export interface StoredRoute {
  readonly capability: string;
  /** Model each candidate serves, by orchestrator URI: outcomes are kept per (orchestrator, capability, model). */
  readonly candidates: ReadonlyMap<string, string>;
  readonly createdAt: number;
  /** Orchestrators whose outcome was already reported: one report per candidate. */
  readonly reported: Set<string>;
}

export class RouteStore {
  private readonly routes = new Map<string, StoredRoute>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxRoutes: number,
    private readonly now: () => number,
  ) {}

  add(id: string, route: Omit<StoredRoute, "createdAt" | "reported">): void {
    // Insertion order is age order, so the oldest entry is the first key.
    while (this.routes.size >= this.maxRoutes) this.routes.delete(this.routes.keys().next().value as string);
    this.routes.set(id, { ...route, createdAt: this.now(), reported: new Set() });
  }

  get(id: string): StoredRoute | undefined {
    const route = this.routes.get(id);
    if (route !== undefined && this.now() - route.createdAt > this.ttlMs) {
      this.routes.delete(id);
      return undefined;
    }
    return route;
  }
}
