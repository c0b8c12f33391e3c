// One routing decision: walk a capability's pre-ranked offers (ranking.ts) best first, leave out what the request rules
// out (exclusions, warm, price ceiling, ejection), keep the best few per tier, and spread load among near-equals.
// Hot path: the walk stops as soon as no offer further down can enter the result, so a decision usually looks at a few
// dozen offers whatever the network's size. Prices are compared as doubles, and exactly (bigints) only when the
// doubles are too close to tell.
import type { Offer } from "../network/offers.js";
import { exceedsRatio, ratioToNumber, type WeiPerUnit } from "../network/price.js";
import type { IndexedOffer, NetworkSnapshot, OrchestratorState } from "../network/snapshot.js";
import { countedSuccessRate, rankingFor, type RankEntry, type RankedGroup, type RankingWeights, type RoutingHealth } from "./ranking.js";

export type { RankingWeights, RoutingHealth } from "./ranking.js";

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

export const DEFAULT_RANKING_WEIGHTS: RankingWeights = {
  latency: 0.5,
  price: 0.3,
  reliability: 0.2,
  nearEqualTolerance: 0.15,
  explorationShare: 0.05,
};

/**
 * What a decision reads. Keep weights, regionOf and minVersion the same objects from one decision to the next: the
 * ranking kept between decisions is tied to them (and to snapshot and health).
 */
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
  offer: IndexedOffer;
  orchestrator: OrchestratorState;
  /** What was observed: the job-latency EWMA ("jobs"), else the discovery round trip ("discovery"). */
  latencyMs: number | undefined;
  latencySource: "jobs" | "discovery" | "none";
  /** The latency the candidate was ranked on: latencyMs for "jobs", the untried estimate otherwise (see ranking.ts). */
  rankedLatencyMs: number;
  successRate: number;
  region: string | undefined;
  score: number;
  reason: string;
}

export interface Selection {
  candidates: RankedCandidate[];
  /** Offers of the capability (and model). */
  considered: number;
  /** Offers the walk looked at, best first; the rest could not have entered the result. */
  examined: number;
  /** Why offers were left out: over every offer for "no capacity", "version" and "cold" (warm required), over the examined ones otherwise. */
  leftOut: Partial<Record<LeftOutReason, number>>;
  /** The cheapest price among examined offers left out only for being over the ceiling (all of them when none fit). */
  cheapestOverCeiling?: WeiPerUnit;
}

/** Candidates in a lower tier always rank before higher tiers: region match, then warm (when preferred). */
const TIER_SPAN = 1e6;
const TIERS = 4;
/** Candidates kept for the final ordering: enough for the count plus a pool of near-equals to spread over. */
const MIN_POOL = 16;

interface Pooled {
  entry: RankEntry;
  tier: number;
  score: number;
  /** Ejected, but its probe may go now: claimed only if it is returned. */
  probe: boolean;
}

/** What one walk gathered. */
class Walk {
  readonly tiers: Pooled[][] = [[], [], [], []];
  /** Offers of each tier seen so far, and in all. */
  readonly seen = [0, 0, 0, 0];
  readonly totals = [0, 0, 0, 0];
  readonly leftOut: Partial<Record<LeftOutReason, number>> = {};
  cheapestOverCeiling: WeiPerUnit | undefined;
  cheapestOverCeilingFloat = Infinity;
  examined = 0;

  constructor(readonly poolSize: number) {}

  drop(reason: LeftOutReason, n = 1): void {
    if (n > 0) this.leftOut[reason] = (this.leftOut[reason] ?? 0) + n;
  }

  /** Whether no offer still unseen could enter the pool: every better tier is complete and the pool is full. */
  complete(): boolean {
    let filled = 0;
    for (let t = 0; t < TIERS; t++) {
      filled += (this.tiers[t] as Pooled[]).length;
      if (filled >= this.poolSize) return true;
      if ((this.seen[t] as number) < (this.totals[t] as number)) return false;
    }
    return true;
  }

  /** The best poolSize, tier by tier (each tier is already in score order). */
  pool(): Pooled[] {
    const pool: Pooled[] = [];
    for (const tier of this.tiers) for (const pooled of tier) if (pool.length < this.poolSize) pool.push(pooled);
    return pool;
  }
}

export function selectCandidates(query: RouteQuery, context: SelectorContext): Selection {
  const modelId = query.modelId === undefined || query.modelId === "" ? undefined : query.modelId;
  const group = rankingFor(context.snapshot, context).group(query.capability, modelId);
  const walk = new Walk(Math.max(MIN_POOL, query.count * 2));
  walk.drop("no capacity", group.staticLeftOut.noCapacity);
  walk.drop("version", group.staticLeftOut.version);
  countTiers(walk, group, query);
  const ceilingFloat = query.ceiling === undefined ? 0 : ratioToNumber(query.ceiling);
  const probes = dueProbes(walk, group, query, ceilingFloat, context.health);
  walkRuns(walk, group, query, ceilingFloat);

  const ordered = spreadNearEquals(walk.pool(), context.weights.nearEqualTolerance, context.random);
  const explored = explore(ordered, context.weights.explorationShare, context.random);
  const chosen = [...probes, ...ordered.items].slice(0, query.count);
  for (const pooled of chosen) if (pooled.probe) context.health.isAvailable(pooled.entry.offer); // claims the probe
  const nearEquals = (position: number): number => (position >= probes.length && position - probes.length < ordered.nearEquals ? ordered.nearEquals : 0);
  const candidates = chosen.map((pooled, position) => ranked(pooled, nearEquals(position), group, query, pooled === explored));
  const selection: Selection = { candidates, considered: group.size, examined: walk.examined, leftOut: walk.leftOut };
  if (walk.cheapestOverCeiling !== undefined) selection.cheapestOverCeiling = walk.cheapestOverCeiling;
  return selection;
}

function tierOf(region: string | undefined, warm: boolean, query: RouteQuery): number {
  return (query.region !== undefined && region !== query.region ? 2 : 0) + (query.warm === "prefer" && !warm ? 1 : 0);
}

/** How many rankable offers fall in each tier, so the walk knows when it has seen all of a tier. */
function countTiers(walk: Walk, group: RankedGroup, query: RouteQuery): void {
  for (const warm of [true, false]) {
    // Warm required: cold offers are out, counted here once rather than met one by one.
    if (query.warm === "require" && !warm) {
      walk.drop("cold", group.countIn(undefined, false));
      continue;
    }
    const warmTier = query.warm === "prefer" && !warm ? 1 : 0;
    const all = group.countIn(undefined, warm);
    const inRegion = query.region === undefined ? all : group.countIn(query.region, warm);
    walk.totals[warmTier] = (walk.totals[warmTier] as number) + inRegion;
    walk.totals[2 + warmTier] = (walk.totals[2 + warmTier] as number) + all - inRegion;
  }
}

/**
 * Ejected offers whose probe may go now, which lead the candidates: a probe exists to be sent, and ranked where its
 * failures put it, it would never be tried and the offer would stay ejected for good. The other ejected offers are
 * counted out here; the walk passes over all of them.
 */
function dueProbes(walk: Walk, group: RankedGroup, query: RouteQuery, ceilingFloat: number, health: RoutingHealth): Pooled[] {
  const probes: Pooled[] = [];
  for (const entry of group.ejected) {
    const { offer } = entry;
    if (query.warm === "require" && !offer.warm) continue; // counted as cold
    if (!fits(walk, offer, query, ceilingFloat)) continue;
    if (health.availability(offer) !== "probe") {
      walk.drop("ejected");
      continue;
    }
    const tier = tierOf(entry.region, offer.warm, query);
    probes.push({ entry, tier, score: tier * TIER_SPAN + group.score(entry), probe: true });
  }
  return probes;
}

/** Whether an offer passes the request's own filters (exclusions, price ceiling); counts the ones that do not. */
function fits(walk: Walk, offer: IndexedOffer, query: RouteQuery, ceilingFloat: number): boolean {
  const { ceiling, exclude } = query;
  if (exclude !== undefined && exclude.size > 0 && exclude.has(offer.orchestratorUri)) {
    walk.drop("excluded");
    return false;
  }
  if (ceiling === undefined) return true;
  if (offer.price === undefined) {
    // With a ceiling, an unknown price could be anything: never assume it fits.
    walk.drop("price unknown");
    return false;
  }
  if (!exceedsRatio(offer.price, offer.priceFloat, ceiling, ceilingFloat)) return true;
  const cheapest = walk.cheapestOverCeiling;
  if (cheapest === undefined || exceedsRatio(cheapest, walk.cheapestOverCeilingFloat, offer.price, offer.priceFloat)) {
    walk.cheapestOverCeiling = offer.price;
    walk.cheapestOverCeilingFloat = offer.priceFloat;
  }
  walk.drop("over ceiling");
  return false;
}

/** Merges the group's runs best first (base score plus the run's shift) until the walk is complete. */
function walkRuns(walk: Walk, group: RankedGroup, query: RouteQuery, ceilingFloat: number): void {
  const { runs, shifts } = group;
  const heads = runs.map(() => 0);
  while (!walk.complete()) {
    let best = -1;
    let bestScore = Infinity;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r] as RankEntry[];
      const head = heads[r] as number;
      if (head >= run.length) continue;
      const score = (run[head] as RankEntry).base + (shifts[r] as number);
      if (best < 0 || score < bestScore) {
        best = r;
        bestScore = score;
      }
    }
    if (best < 0) return;
    heads[best] = (heads[best] as number) + 1;
    const entry = (runs[best] as RankEntry[])[(heads[best] as number) - 1] as RankEntry;
    const { offer } = entry;
    if (query.warm === "require" && !offer.warm) continue; // counted in countTiers
    walk.examined++;
    const tier = tierOf(entry.region, offer.warm, query);
    walk.seen[tier] = (walk.seen[tier] as number) + 1;
    if (entry.ejected) continue; // dealt with (and counted) in dueProbes
    if (!fits(walk, offer, query, ceilingFloat)) continue;
    const pool = walk.tiers[tier] as Pooled[];
    // Within a tier offers arrive best first, so one beyond the pool's size can never be used.
    if (pool.length < walk.poolSize) pool.push({ entry, tier, score: tier * TIER_SPAN + bestScore, probe: false });
  }
}

/**
 * Near-equals of the best candidate (same tier, score within tolerance) are shuffled so that load spreads over
 * them instead of herding onto the single fastest (go-livepeer#3402, #3678); the rest keep their order.
 */
function spreadNearEquals(pool: Pooled[], tolerance: number, random: () => number): { items: Pooled[]; nearEquals: number } {
  const best = pool[0];
  if (best === undefined) return { items: pool, nearEquals: 0 };
  let near = 1;
  const limit = best.score + Math.abs(best.score - best.tier * TIER_SPAN) * tolerance;
  while (near < pool.length) {
    const next = pool[near] as Pooled;
    if (next.tier !== best.tier || next.score > limit) break;
    near++;
  }
  for (let i = near - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as Pooled, pool[i] as Pooled];
  }
  return { items: pool, nearEquals: near };
}

/**
 * With probability `share`, moves a random candidate ranked below the near-equals (same tier as the best) to the
 * front, and returns it: epsilon-greedy exploration, so that every orchestrator keeps being seen.
 */
function explore(ordered: { items: Pooled[]; nearEquals: number }, share: number, random: () => number): Pooled | undefined {
  const { items, nearEquals } = ordered;
  const best = items[0];
  if (best === undefined || share <= 0 || random() >= share) return undefined;
  let end = nearEquals;
  while (end < items.length && (items[end] as Pooled).tier === best.tier) end++;
  if (end === nearEquals) return undefined;
  const index = nearEquals + Math.floor(random() * (end - nearEquals));
  const [chosen] = items.splice(index, 1) as [Pooled];
  items.unshift(chosen);
  return chosen;
}

/** A pooled offer as the caller sees it; nearEquals > 1 when it is one of that many near-equals shuffled. */
function ranked(pooled: Pooled, nearEquals: number, group: RankedGroup, query: RouteQuery, explored: boolean): RankedCandidate {
  const { entry } = pooled;
  const { offer, region } = entry;
  const observation = offer.orchestrator.observation;
  const latencyMs = entry.tried ? entry.jobLatencyMs : observation.latencyMs;
  const latencySource = entry.tried ? "jobs" : latencyMs !== undefined ? "discovery" : "none";
  const rankedLatencyMs = group.rankedLatencyMs(entry);
  const reasons: string[] = [];
  if (query.region !== undefined) reasons.push(region === query.region ? `in ${query.region}` : `outside ${query.region}`);
  if (query.warm !== "any") reasons.push(offer.warm ? "warm" : "cold");
  if (pooled.probe) reasons.push("ejected, sent as the probe that may bring it back");
  if (entry.tried) {
    reasons.push(`${Math.round(rankedLatencyMs)} ms job latency (EWMA)`);
  } else {
    if (!Number.isNaN(group.jobReference[entry.model] as number)) {
      reasons.push(`no job history: ranked as ~${Math.round(rankedLatencyMs)} ms, the median job latency adjusted by its round trip`);
    }
    reasons.push(latencyMs === undefined ? "no latency observed yet" : `${Math.round(latencyMs)} ms discovery round trip`);
  }
  reasons.push(offer.price === undefined ? "price unknown" : `${describePrice(offer)} wei/unit (${offer.priceSource})`);
  const counted = countedSuccessRate(entry) === entry.successRate || entry.samples === 0 ? "" : ` (${entry.samples} outcomes: too few to count yet)`;
  reasons.push(`${Math.round(entry.successRate * 100)}% success${counted}`);
  if (nearEquals > 1) reasons.push(`one of ${nearEquals} near-equals, order randomised to spread load`);
  if (explored) reasons.push("put first to explore: a share of decisions tries a lower-ranked orchestrator so that it keeps being seen");
  return {
    offer,
    orchestrator: offer.orchestrator,
    latencyMs,
    latencySource,
    rankedLatencyMs,
    successRate: entry.successRate,
    region,
    score: pooled.score,
    reason: reasons.join("; "),
  };
}

function describePrice(offer: Offer): string {
  const price = offer.price as WeiPerUnit;
  return price.den === 1n ? `${price.num}` : `${price.num}/${price.den}`;
}
