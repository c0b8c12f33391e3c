// Routing decisions and outcome reports. Transport-neutral: the Connect service and the job executor both call it.
// Errors are ConnectErrors with the codes the API documents and messages that name what was wrong.
import { Code, ConnectError } from "@connectrpc/connect";
import { capabilityNameProblem } from "../network/capabilities.js";
import { compareRatios, formatPrice, weiPerUnit, type WeiPerUnit } from "../network/price.js";
import { convertToWei, parsePricePerUnit, type EthUsdRate } from "../network/currency.js";
import type { NetworkSnapshot } from "../network/snapshot.js";
import { similarNames } from "../util/similar-names.js";
import type { HealthState, HealthTracker, OutcomeClass } from "./health.js";
import type { PriceCeilings, ResolvedCeiling } from "./price-ceilings.js";
import type { ResolvedRetryProfile, RetryProfiles } from "./retry-profiles.js";
import { newRouteId, RouteStore } from "./route-store.js";
import { selectCandidates, type RankingWeights, type Selection, type SelectorContext, type WarmPolicy } from "./selector.js";
import { BoundedCache } from "../util/bounded-cache.js";

export interface RouteInput {
  capability: string;
  modelId: string;
  /** go-livepeer price syntax; "" for none. */
  maxPricePerUnit: string;
  region: string;
  count: number;
  excludeOrchestrators: readonly string[];
  warm: WarmPolicy;
}

export interface RouteDecision extends Selection {
  routeId: string;
  ceiling?: ResolvedCeiling;
  retryProfile: ResolvedRetryProfile;
  summary: string;
}

export interface RouterOptions {
  weights: RankingWeights;
  /** Orchestrator URI → region (-orchRegions). */
  regions: ReadonlyMap<string, string>;
  minVersion?: readonly number[];
  random: () => number;
  rate?: EthUsdRate;
  now?: () => number;
  routeTtlMs?: number;
  maxRoutes?: number;
}

const DEFAULT_COUNT = 3;
const MAX_COUNT = 100;
const MAX_EXCLUSIONS = 1000;
/** Bounds of the per-capability caches below: names come from the network, but the network is not trusted either. */
const MAX_CACHED = 10_000;
const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

export class Router {
  private readonly routes: RouteStore;
  private readonly knownRegions: ReadonlySet<string>;
  /** The selector keeps its ranking between decisions while these stay the same objects. */
  private readonly selection: Omit<SelectorContext, "snapshot">;
  /** Retry profiles of offered capabilities, until reconfigure(). */
  private readonly profileCache = new Map<string, ResolvedRetryProfile>();
  /** Request price caps (max_price_per_unit text) in wei: parsing and converting them costs more than the decision. */
  /** Clients tend to send the same few caps; a flood of distinct ones just starts the cache over. */
  private readonly capCache = new BoundedCache<string, WeiPerUnit>(MAX_CACHED);

  constructor(
    private readonly network: { readonly snapshot: NetworkSnapshot },
    readonly health: HealthTracker,
    private ceilings: PriceCeilings,
    private profiles: RetryProfiles,
    private readonly options: RouterOptions,
  ) {
    const now = options.now ?? Date.now;
    this.routes = new RouteStore(options.routeTtlMs ?? 10 * 60_000, options.maxRoutes ?? 100_000, now);
    this.knownRegions = new Set(options.regions.values());
    const { regions } = options;
    this.selection = {
      health,
      weights: options.weights,
      regionOf: (uri) => regions.get(uri),
      minVersion: options.minVersion,
      random: options.random,
    };
  }

  /** Ceilings and profiles after a config reload; decisions in flight keep what they started with. */
  reconfigure(ceilings: PriceCeilings, profiles: RetryProfiles): void {
    this.ceilings = ceilings;
    this.profiles = profiles;
    this.profileCache.clear();
    this.capCache.clear(); // caps in USD convert at the rate in force now
  }

  /** The same object for a capability until reconfigure(), so that callers may cache what they derive from it. */
  retryProfileFor(capability: string): ResolvedRetryProfile {
    let profile = this.profileCache.get(capability);
    if (profile === undefined) {
      profile = this.profiles.profileFor(capability);
      // Only names the network offers are kept: a stream of made-up names must not grow the cache.
      if (this.profileCache.size < MAX_CACHED && this.network.snapshot.offers(capability).length > 0) this.profileCache.set(capability, profile);
    }
    return profile;
  }

  ceilingFor(capability: string, modelId: string): ResolvedCeiling | undefined {
    const profile = this.retryProfileFor(capability);
    return this.ceilings.ceilingFor(capability, modelId || undefined, {
      factor: profile.priceCeilingMultiplier,
      source: `${profile.profile} profile`,
    });
  }

  /**
   * `remember: false` for the gateway's own jobs: their outcomes go straight to health, so no route id is kept for
   * ReportOutcome (and the bounded route store keeps its room for the clients' routes). routeId is then "".
   */
  route(input: RouteInput, options: { remember?: boolean } = {}): RouteDecision {
    const snapshot = this.network.snapshot;
    const capability = this.checkCapability(snapshot, input.capability);
    const count = input.count === 0 ? DEFAULT_COUNT : input.count;
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      throw invalid(`count must be between 1 and ${MAX_COUNT}, got ${input.count}`);
    }
    if (input.region !== "" && !this.knownRegions.has(input.region)) {
      throw invalid(
        `region ${JSON.stringify(input.region)} is not a configured region` +
          (this.knownRegions.size > 0 ? ` (known: ${[...this.knownRegions].sort().join(", ")})` : " (no regions are configured; see -orchRegions)"),
      );
    }
    if (input.excludeOrchestrators.length > MAX_EXCLUSIONS) {
      throw invalid(`exclude_orchestrators has ${input.excludeOrchestrators.length} entries; the limit is ${MAX_EXCLUSIONS}`);
    }
    if (input.modelId !== "" && snapshot.offers(capability, input.modelId).length === 0) {
      const similar = similarNames(input.modelId, snapshot.models(capability));
      throw new ConnectError(
        `no orchestrator offers model ${JSON.stringify(input.modelId)} for ${capability}` +
          (similar.length > 0 ? `; did you mean ${similar.map((s) => JSON.stringify(s)).join(", ")}?` : ""),
        Code.NotFound,
      );
    }
    const ceiling = this.effectiveCeiling(capability, input.modelId, input.maxPricePerUnit);
    const selection = selectCandidates(
      {
        capability,
        modelId: input.modelId,
        ceiling: ceiling?.price,
        region: input.region === "" ? undefined : input.region,
        count,
        exclude: input.excludeOrchestrators.length === 0 ? NO_EXCLUSIONS : new Set(input.excludeOrchestrators),
        warm: input.warm,
      },
      { snapshot, ...this.selection },
    );
    const summary = summarise(selection);
    if (selection.candidates.length === 0) throw this.noCandidates(capability, selection, ceiling, summary);
    let routeId = "";
    if (options.remember ?? true) {
      routeId = newRouteId();
      this.routes.add(routeId, {
        capability,
        orchestratorUris: selection.candidates.map((c) => c.offer.orchestratorUri),
        modelIds: selection.candidates.map((c) => c.offer.modelId),
      });
    }
    const decision: RouteDecision = {
      candidates: selection.candidates,
      considered: selection.considered,
      examined: selection.examined,
      leftOut: selection.leftOut,
      routeId,
      ceiling,
      retryProfile: this.retryProfileFor(capability),
      summary,
    };
    if (selection.cheapestOverCeiling !== undefined) decision.cheapestOverCeiling = selection.cheapestOverCeiling;
    return decision;
  }

  reportOutcome(routeId: string, orchestratorUri: string, outcome: OutcomeClass, latencyMs: number): HealthState {
    if (routeId === "") throw invalid("route_id is required");
    if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 24 * 3_600_000) {
      throw invalid(`latency must be between 0 and 24 h, got ${latencyMs} ms`);
    }
    const route = this.routes.get(routeId);
    if (route === undefined) throw new ConnectError(`route_id ${JSON.stringify(routeId)} is unknown or expired`, Code.NotFound);
    const index = route.orchestratorUris.indexOf(orchestratorUri);
    if (index < 0) {
      throw invalid(`orchestrator_uri ${JSON.stringify(orchestratorUri)} was not a candidate of route ${routeId}`);
    }
    const modelId = route.modelIds[index] as string;
    if (route.reported?.has(orchestratorUri)) {
      throw new ConnectError(`the outcome for ${orchestratorUri} on route ${routeId} was already reported`, Code.AlreadyExists);
    }
    (route.reported ??= new Set()).add(orchestratorUri);
    return this.health.record({ orchestratorUri, capability: route.capability, modelId }, outcome, latencyMs);
  }

  private checkCapability(snapshot: NetworkSnapshot, capability: string): string {
    if (capability === "") throw invalid("capability is required, e.g. \"image-to-image\" or a BYOC name such as \"depth\"");
    const problem = capabilityNameProblem(capability, "capability");
    if (problem !== undefined) throw invalid(problem);
    if (snapshot.offers(capability).length === 0) {
      const similar = similarNames(capability, snapshot.capabilities());
      throw new ConnectError(
        `no orchestrator offers capability ${JSON.stringify(capability)}` +
          (similar.length > 0 ? `; did you mean ${similar.map((s) => JSON.stringify(s)).join(", ")}?` : "") +
          ` (offered now: ${snapshot.capabilities().join(", ") || "nothing"})`,
        Code.NotFound,
      );
    }
    return capability;
  }

  /** The configured ceiling, lowered (never raised) by the request's own cap. */
  private effectiveCeiling(capability: string, modelId: string, requested: string): ResolvedCeiling | undefined {
    const configured = this.ceilingFor(capability, modelId);
    if (requested === "") return configured;
    const cap = this.requestedCap(requested);
    if (configured !== undefined && compareRatios(configured.price, cap) <= 0) return configured;
    return { price: cap, source: `request max_price_per_unit ${requested}`, level: "model" };
  }

  /** A request's max_price_per_unit in wei per unit; throws INVALID_ARGUMENT naming it when it does not parse. */
  private requestedCap(requested: string): WeiPerUnit {
    let cap = this.capCache.get(requested);
    if (cap !== undefined) return cap;
    try {
      const amount = parsePricePerUnit(requested, "max_price_per_unit");
      const wei = convertToWei(amount.amount, amount.currency, this.options.rate);
      cap = weiPerUnit(wei.num, wei.den);
    } catch (err) {
      throw invalid((err as Error).message);
    }
    this.capCache.set(requested, cap);
    return cap;
  }

  private noCandidates(capability: string, selection: Selection, ceiling: ResolvedCeiling | undefined, summary: string): ConnectError {
    const overCeiling = selection.leftOut["over ceiling"] ?? 0;
    if (overCeiling > 0 && overCeiling + (selection.leftOut["price unknown"] ?? 0) === selection.considered && ceiling) {
      return new ConnectError(
        `every orchestrator offering ${capability} is over the price ceiling of ${formatPrice(ceiling.price)} wei/unit (${ceiling.source}); ` +
          `the cheapest is ${selection.cheapestOverCeiling ? formatPrice(selection.cheapestOverCeiling) : "unknown"} wei/unit`,
        Code.ResourceExhausted,
      );
    }
    return new ConnectError(`no orchestrator can take ${capability} now: ${summary}`, Code.Unavailable);
  }
}

function summarise(selection: Selection): string {
  const parts = Object.entries(selection.leftOut).map(([reason, n]) => `${n} ${reason}`);
  const examined = selection.examined < selection.considered ? `, the best ${selection.examined} examined` : "";
  return `${selection.considered} offers considered${examined}` + (parts.length > 0 ? `; left out: ${parts.join(", ")}` : "");
}
