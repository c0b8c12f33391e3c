// One routing decision: filter a capability's offers (model, exclusions, warm, capacity, version, health, price
// ceiling), rank what is left by observed latency, price and reliability, and spread load among near-equals.
// Hot path: called for every request over up to thousands of offers, so one pass, no sorting of the whole list,
// and exact bigint price comparisons only when a float comparison cannot decide.
import type { Offer } from "../network/offers.js";
import type { WeiPerUnit } from "../network/price.js";
import type { NetworkSnapshot, OrchestratorState } from "../network/snapshot.js";
import { versionAtLeast } from "./version.js";

export type WarmPolicy = "prefer" | "require" | "any";

export interface RouteQuery {
  capability: string;
  /** "" or undefined: any model. */
  modelId?: string;
  /** The ceiling in force (already the lower of configuration and request); undefined = unlimited. */
  ceiling?: WeiPerUnit;
  region?: string;
  count: number;
  exclude?: ReadonlySet<string>;
  warm: WarmPolicy;
}

/** What the selector needs from health tracking, per (orchestrator, capability, model); an Offer is such a key. */
export interface RoutingHealth {
  isAvailable(key: Offer): boolean;
  /** Undefined when nothing has been recorded for the key. */
  rankingStats(key: Offer): { ewmaLatencyMs: number | undefined; successRate: number; latencySamples: number } | undefined;
}

export interface RankingWeights {
  latency: number;
  price: number;
  reliability: number;
  /** Candidates whose score is within this share of the best (same tier) are near-equals: their order is random. */
  nearEqualTolerance: number;
}

export const DEFAULT_RANKING_WEIGHTS: RankingWeights = { latency: 0.5, price: 0.3, reliability: 0.2, nearEqualTolerance: 0.15 };

export interface SelectorContext {
  snapshot: NetworkSnapshot;
  health: RoutingHealth;
  weights: RankingWeights;
  /** Orchestrator URI → region, as configured. */
  regionOf: (uri: string) => string | undefined;
  /** -orchMinLivepeerVersion, parsed; undefined = none. */
  minVersion?: readonly number[];
  /** [0, 1): seeded in tests for deterministic choices. */
  random: () => number;
}

export type LeftOutReason = "model" | "excluded" | "cold" | "no capacity" | "version" | "ejected" | "over ceiling" | "price unknown";

export interface RankedCandidate {
  offer: Offer;
  orchestrator: OrchestratorState;
  latencyMs: number | undefined;
  latencySource: "jobs" | "discovery" | "none";
  successRate: number;
  region: string | undefined;
  score: number;
  reason: string;
}

export interface Selection {
  candidates: RankedCandidate[];
  /** Offers of the capability (and model) considered. */
  considered: number;
  leftOut: Partial<Record<LeftOutReason, number>>;
  /** The cheapest price among offers left out only for being over the ceiling. */
  cheapestOverCeiling?: WeiPerUnit;
}

/** Candidates in a lower tier always rank before higher tiers: region match, then warm (when preferred). */
const TIER_SPAN = 1e6;
/** Candidates kept for the final ordering: enough for the count plus a pool of near-equals to spread over. */
const MIN_POOL = 16;
const UNKNOWN_LATENCY_MS = 10_000;

/** a <= b exactly, deciding by floats when they are clearly apart and by bigints otherwise. */
function priceAtMost(a: WeiPerUnit, aFloat: number, b: WeiPerUnit, bFloat: number): boolean {
  if (aFloat < bFloat * (1 - 1e-9)) return true;
  if (aFloat > bFloat * (1 + 1e-9)) return false;
  return a.num * b.den <= b.num * a.den;
}

function priceFloat(price: WeiPerUnit): number {
  return Number(price.num) / Number(price.den);
}

interface Eligible {
  offer: Offer;
  orchestrator: OrchestratorState;
  latencyMs: number | undefined;
  latencySource: RankedCandidate["latencySource"];
  successRate: number;
  price: number;
  tier: number;
  score: number;
}

export function selectCandidates(query: RouteQuery, context: SelectorContext): Selection {
  const { snapshot, health, weights } = context;
  const offers = snapshot.offers(query.capability);
  const wantedModel = query.modelId === undefined || query.modelId === "" ? undefined : query.modelId;
  const ceiling = query.ceiling;
  const ceilingFloat = ceiling === undefined ? 0 : priceFloat(ceiling);
  const leftOut: Partial<Record<LeftOutReason, number>> = {};
  const drop = (reason: LeftOutReason): void => {
    leftOut[reason] = (leftOut[reason] ?? 0) + 1;
  };
  let cheapestOverCeiling: WeiPerUnit | undefined;
  let considered = 0;
  const eligible: Eligible[] = [];
  let bestLatency = Infinity;
  let bestPrice = Infinity;

  for (const offer of offers) {
    if (wantedModel !== undefined && offer.modelId !== wantedModel) continue;
    considered++;
    if (query.exclude?.has(offer.orchestratorUri)) { drop("excluded"); continue; }
    if (query.warm === "require" && !offer.warm) { drop("cold"); continue; }
    // Capacity counts only where advertised: 0 idle with some in use means full (live-video-to-video reports this).
    if (offer.capacity === 0 && offer.capacityInUse > 0) { drop("no capacity"); continue; }
    const orchestrator = snapshot.orchestrator(offer.orchestratorUri);
    if (orchestrator === undefined) continue;
    if (context.minVersion !== undefined && !versionAtLeast(orchestrator.info?.capabilities?.version ?? "", context.minVersion)) {
      drop("version");
      continue;
    }
    let price = Infinity;
    if (offer.price !== undefined) {
      price = priceFloat(offer.price);
      if (ceiling !== undefined && !priceAtMost(offer.price, price, ceiling, ceilingFloat)) {
        if (cheapestOverCeiling === undefined || priceAtMost(offer.price, price, cheapestOverCeiling, priceFloat(cheapestOverCeiling))) {
          cheapestOverCeiling = offer.price;
        }
        drop("over ceiling");
        continue;
      }
    } else if (ceiling !== undefined) {
      // With a ceiling, an unknown price could be anything: never assume it fits.
      drop("price unknown");
      continue;
    }
    if (!health.isAvailable(offer)) { drop("ejected"); continue; }
    const stats = health.rankingStats(offer);
    const jobLatency = stats !== undefined && stats.latencySamples > 0 ? stats.ewmaLatencyMs : undefined;
    const latencyMs = jobLatency ?? orchestrator.observation.latencyMs;
    const latencySource = jobLatency !== undefined ? "jobs" : latencyMs !== undefined ? "discovery" : "none";
    const region = context.regionOf(offer.orchestratorUri);
    const tier = (query.region !== undefined && region !== query.region ? 2 : 0) + (query.warm === "prefer" && !offer.warm ? 1 : 0);
    eligible.push({ offer, orchestrator, latencyMs, latencySource, successRate: stats?.successRate ?? 1, price, tier, score: 0 });
    if (latencyMs !== undefined && latencyMs < bestLatency) bestLatency = latencyMs;
    if (price < bestPrice) bestPrice = price;
  }

  // Each term is 1 for the best candidate and grows as a candidate is worse; weights say how much each matters.
  const latencyFloor = Math.max(bestLatency === Infinity ? UNKNOWN_LATENCY_MS : bestLatency, 1);
  const priceFloor = bestPrice === Infinity || bestPrice <= 0 ? undefined : bestPrice;
  const pool: Eligible[] = [];
  const poolSize = Math.max(MIN_POOL, query.count * 2);
  for (const candidate of eligible) {
    const latencyTerm = (candidate.latencyMs ?? UNKNOWN_LATENCY_MS) / latencyFloor;
    const priceTerm =
      candidate.price === Infinity ? 10 : priceFloor === undefined ? 1 : candidate.price / priceFloor;
    const reliabilityTerm = 1 + (1 - candidate.successRate) * 10;
    candidate.score =
      candidate.tier * TIER_SPAN +
      weights.latency * latencyTerm + weights.price * priceTerm + weights.reliability * reliabilityTerm;
    insertBounded(pool, candidate, poolSize);
  }

  const ordered = spreadNearEquals(pool, weights.nearEqualTolerance, context.random);
  const candidates = ordered.slice(0, query.count).map((candidate) => ranked(candidate, query, context, ordered));
  const selection: Selection = { candidates, considered, leftOut };
  if (cheapestOverCeiling !== undefined) selection.cheapestOverCeiling = cheapestOverCeiling;
  return selection;
}

/** Keeps `pool` sorted by score and at most `size` long: O(size) per insert, no sort of the whole list. */
function insertBounded(pool: Eligible[], candidate: Eligible, size: number): void {
  if (pool.length === size && candidate.score >= (pool[size - 1] as Eligible).score) return;
  let index = pool.length;
  while (index > 0 && (pool[index - 1] as Eligible).score > candidate.score) index--;
  pool.splice(index, 0, candidate);
  if (pool.length > size) pool.pop();
}

/**
 * Near-equals of the best candidate (same tier, score within tolerance) are shuffled so that load spreads over
 * them instead of herding onto the single fastest (go-livepeer#3402, #3678); the rest keep their order.
 */
function spreadNearEquals(pool: Eligible[], tolerance: number, random: () => number): Eligible[] {
  const best = pool[0];
  if (best === undefined) return pool;
  let near = 1;
  while (near < pool.length) {
    const next = pool[near] as Eligible;
    if (next.tier !== best.tier || next.score > best.score + Math.abs(best.score - best.tier * TIER_SPAN) * tolerance) break;
    near++;
  }
  const ordered = pool.slice();
  for (let i = near - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ordered[i], ordered[j]] = [ordered[j] as Eligible, ordered[i] as Eligible];
  }
  (ordered as Eligible[] & { nearEquals?: number }).nearEquals = near;
  return ordered;
}

function ranked(candidate: Eligible, query: RouteQuery, context: SelectorContext, ordered: Eligible[]): RankedCandidate {
  const region = context.regionOf(candidate.offer.orchestratorUri);
  const nearEquals = (ordered as Eligible[] & { nearEquals?: number }).nearEquals ?? 1;
  const reasons: string[] = [];
  if (query.region !== undefined) reasons.push(region === query.region ? `in ${query.region}` : `outside ${query.region}`);
  if (query.warm !== "any") reasons.push(candidate.offer.warm ? "warm" : "cold");
  if (candidate.latencyMs !== undefined) {
    reasons.push(`${Math.round(candidate.latencyMs)} ms ${candidate.latencySource === "jobs" ? "job latency (EWMA)" : "discovery round trip"}`);
  } else {
    reasons.push("no latency observed yet");
  }
  const price = candidate.offer.price;
  reasons.push(
    price === undefined
      ? "price unknown"
      : `${price.den === 1n ? price.num : `${price.num}/${price.den}`} wei/unit (${candidate.offer.priceSource})`,
  );
  reasons.push(`${Math.round(candidate.successRate * 100)}% success`);
  const position = ordered.indexOf(candidate);
  if (nearEquals > 1 && position < nearEquals) reasons.push(`one of ${nearEquals} near-equals, order randomised to spread load`);
  return {
    offer: candidate.offer,
    orchestrator: candidate.orchestrator,
    latencyMs: candidate.latencyMs,
    latencySource: candidate.latencySource,
    successRate: candidate.successRate,
    region,
    score: candidate.score,
    reason: reasons.join("; "),
  };
}
