// Routing decisions and outcome reports. Transport-neutral: the Connect service and the job executor both call it.
// Errors are ConnectErrors with the codes the API documents and messages that name what was wrong.
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { formatPrice, weiPerUnit, type WeiPerUnit } from "../network/price.js";
import { convertToWei, parsePricePerUnit, type EthUsdRate } from "../network/currency.js";
import type { NetworkSnapshot } from "../network/snapshot.js";
import { similarNames } from "../util/similar-names.js";
import type { HealthState, HealthTracker, OutcomeClass } from "./health.js";
import type { PriceCeilings, ResolvedCeiling } from "./price-ceilings.js";
import type { ResolvedRetryProfile, RetryProfiles } from "./retry-profiles.js";
import { RouteStore } from "./route-store.js";
import { selectCandidates, type RankingWeights, type Selection, type WarmPolicy } from "./selector.js";

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

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

export class Router {
  private readonly routes: RouteStore;
  private readonly knownRegions: ReadonlySet<string>;

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
  }

  /** Ceilings and profiles after a config reload; decisions in flight keep what they started with. */
  reconfigure(ceilings: PriceCeilings, profiles: RetryProfiles): void {
    this.ceilings = ceilings;
    this.profiles = profiles;
  }

  retryProfileFor(capability: string): ResolvedRetryProfile {
    return this.profiles.profileFor(capability);
  }

  ceilingFor(capability: string, modelId: string): ResolvedCeiling | undefined {
    const profile = this.profiles.profileFor(capability);
    return this.ceilings.ceilingFor(capability, modelId || undefined, {
      factor: profile.priceCeilingMultiplier,
      source: `${profile.profile} profile`,
    });
  }

  route(input: RouteInput): RouteDecision {
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
    if (input.modelId !== "" && !snapshot.models(capability).includes(input.modelId)) {
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
        exclude: new Set(input.excludeOrchestrators),
        warm: input.warm,
      },
      {
        snapshot,
        health: this.health,
        weights: this.options.weights,
        regionOf: (uri) => this.options.regions.get(uri),
        minVersion: this.options.minVersion,
        random: this.options.random,
      },
    );
    const summary = summarise(selection);
    if (selection.candidates.length === 0) throw this.noCandidates(capability, selection, ceiling, summary);
    const routeId = randomBytes(12).toString("hex");
    this.routes.add(routeId, {
      capability,
      candidates: new Map(selection.candidates.map((c) => [c.offer.orchestratorUri, c.offer.modelId])),
    });
    return { ...selection, routeId, ceiling, retryProfile: this.profiles.profileFor(capability), summary };
  }

  reportOutcome(routeId: string, orchestratorUri: string, outcome: OutcomeClass, latencyMs: number): HealthState {
    if (routeId === "") throw invalid("route_id is required");
    if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 24 * 3_600_000) {
      throw invalid(`latency must be between 0 and 24 h, got ${latencyMs} ms`);
    }
    const route = this.routes.get(routeId);
    if (route === undefined) throw new ConnectError(`route_id ${JSON.stringify(routeId)} is unknown or expired`, Code.NotFound);
    const modelId = route.candidates.get(orchestratorUri);
    if (modelId === undefined) {
      throw invalid(`orchestrator_uri ${JSON.stringify(orchestratorUri)} was not a candidate of route ${routeId}`);
    }
    if (route.reported.has(orchestratorUri)) {
      throw new ConnectError(`the outcome for ${orchestratorUri} on route ${routeId} was already reported`, Code.AlreadyExists);
    }
    route.reported.add(orchestratorUri);
    return this.health.record({ orchestratorUri, capability: route.capability, modelId }, outcome, latencyMs);
  }

  private checkCapability(snapshot: NetworkSnapshot, capability: string): string {
    if (capability === "") throw invalid("capability is required, e.g. \"image-to-image\" or a BYOC name such as \"depth\"");
    if (capability.length > 128 || !/^[\x21-\x7e]+$/.test(capability)) {
      throw invalid(`capability ${JSON.stringify(capability.slice(0, 140))} must be printable ASCII without spaces, at most 128 characters`);
    }
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
    let cap: WeiPerUnit;
    try {
      const amount = parsePricePerUnit(requested, "max_price_per_unit");
      const wei = convertToWei(amount.amount, amount.currency, this.options.rate);
      cap = weiPerUnit(wei.num, wei.den);
    } catch (err) {
      throw invalid((err as Error).message);
    }
    if (configured !== undefined && configured.price.num * cap.den <= cap.num * configured.price.den) return configured;
    return { price: cap, source: `request max_price_per_unit ${requested}`, level: "model" };
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
  return `${selection.considered} offers considered` + (parts.length > 0 ? `; left out: ${parts.join(", ")}` : "");
}
