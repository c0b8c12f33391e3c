// Remembers recent routing decisions so that ReportOutcome can be checked against what was actually offered.
// Bounded in size and age: an abandoned route costs nothing after its time. Up to maxRoutes of them live at once, so
// each is kept small (two arrays of shared strings; the reported set only once something is reported).
import { randomFillSync } from "node:crypto";

export interface StoredRoute {
  readonly capability: string;
  /** The candidates' orchestrator URIs, and the model each serves: outcomes are kept per (orchestrator, capability, model). */
  readonly orchestratorUris: readonly string[];
  readonly modelIds: readonly string[];
  readonly createdAt: number;
  /** Orchestrators whose outcome was already reported: one report per candidate. */
  reported?: Set<string>;
}

const ID_BYTES = 12;
/** Random bytes drawn from the CSPRNG in batches: one call per route id would cost more than the routing decision. */
const idPool = Buffer.alloc(ID_BYTES * 1024);
let idOffset = idPool.length;

/** 24 hex digits from the CSPRNG: unguessable, so one client cannot report outcomes on another's routes. */
export function newRouteId(): string {
  if (idOffset + ID_BYTES > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString("hex", idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

export class RouteStore {
  private readonly routes = new Map<string, StoredRoute>();
  /**
   * Ids in the order they were added, as a ring: the oldest is evicted when full. (Evicting a Map's first key instead
   * slows down as the Map keeps the deleted slots at its front until it rehashes.)
   */
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxRoutes: number,
    private readonly now: () => number,
  ) {
    this.order = new Array<string | undefined>(maxRoutes).fill(undefined);
  }

  add(id: string, route: Omit<StoredRoute, "createdAt" | "reported">): void {
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.routes.delete(oldest);
    this.order[this.next] = id;
    this.next = (this.next + 1) % this.maxRoutes;
    this.routes.set(id, { capability: route.capability, orchestratorUris: route.orchestratorUris, modelIds: route.modelIds, createdAt: this.now() });
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
