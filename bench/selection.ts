// Workload 1: one routing decision in process, over synthetic networks of 100, 1,000 and 10,000 orchestrators —
// the bare selector, and at 1,000 also the full Router.route path (validation, ceiling, route id), timed in turns
// with the selector so that both meet the same machine conditions.
import { parsePriceCeilingConfig, PriceCeilings } from "../src/routing/price-ceilings.js";
import { RetryProfiles } from "../src/routing/retry-profiles.js";
import { Router, type RouteInput } from "../src/routing/router.js";
import { DEFAULT_RANKING_WEIGHTS, selectCandidates, type RouteQuery, type SelectorContext } from "../src/routing/selector.js";
import { seededRandom } from "../src/util/random.js";
import type { BenchResult } from "./report.js";
import { summariseNs, timeCalls, type LatencySummary } from "./stats.js";
import { CAPABILITY_COUNT, ceilingAtQuantile, syntheticNetwork, type SyntheticNetwork } from "./synthetic-network.js";

const CAPABILITY = "image-to-image";
/** Offers priced above this quantile of the capability's prices are over the ceiling. */
const CEILING_QUANTILE = 0.75;
const COUNT = 3;

const SIZES = [
  { orchestrators: 100, iterations: 20_000, goalUs: 50, router: false },
  { orchestrators: 1_000, iterations: 5_000, goalUs: 50, router: true },
  { orchestrators: 10_000, iterations: 1_000, goalUs: 250, router: false },
] as const;
/** Wall-time bound of one measurement, warm-up included. */
const MAX_MS = 15_000;

const label = (n: number): string => n.toLocaleString("en-US");

function routerFor(network: SyntheticNetwork): Router {
  return new Router(
    { snapshot: network.snapshot },
    network.health,
    PriceCeilings.resolve(parsePriceCeilingConfig({})),
    RetryProfiles.fromSettings(),
    { weights: DEFAULT_RANKING_WEIGHTS, regions: network.regions, random: seededRandom(7) },
  );
}

export function benchSelection(progress: (line: string) => void): BenchResult[] {
  const results: BenchResult[] = [];
  for (const size of SIZES) {
    const started = performance.now();
    const network = syntheticNetwork({ orchestrators: size.orchestrators });
    const ceiling = ceilingAtQuantile(network.snapshot, CAPABILITY, CEILING_QUANTILE);
    progress(`selection: built ${label(size.orchestrators)} orchestrators (${network.offers} offers) in ${Math.round(performance.now() - started)} ms`);

    const query: RouteQuery = { capability: CAPABILITY, ceiling: ceiling.price, count: COUNT, warm: "prefer" };
    const context: SelectorContext = {
      snapshot: network.snapshot,
      health: network.health,
      weights: DEFAULT_RANKING_WEIGHTS,
      regionOf: (uri) => network.regions.get(uri),
      random: seededRandom(7),
    };
    // The same decision as Router input: the ceiling travels as go-livepeer price text and parses to the same price.
    const input: RouteInput = {
      capability: CAPABILITY,
      modelId: "",
      maxPricePerUnit: ceiling.text,
      region: "",
      count: COUNT,
      excludeOrchestrators: [],
      warm: "prefer",
    };
    const router = size.router ? routerFor(network) : undefined;
    const calls = [() => selectCandidates(query, context), ...(router ? [() => router.route(input)] : [])];
    const [selector, routed] = timeCalls(calls, {
      iterations: size.iterations,
      warmup: Math.min(2_000, size.iterations / 5),
      maxMs: MAX_MS,
    }).map(summariseNs) as [LatencySummary, LatencySummary | undefined];
    const sample = selectCandidates(query, context); // what one decision did, in the steady state measured

    const parameters = {
      orchestrators: size.orchestrators,
      capabilities: CAPABILITY_COUNT,
      offers: network.offers,
      healthKeysWithHistory: network.healthKeys,
      capability: CAPABILITY,
      offersOfCapability: network.snapshot.offers(CAPABILITY).length,
      count: COUNT,
      warm: "prefer",
      ceilingWeiPerUnit: ceiling.text,
      considered: sample.considered,
      leftOut: sample.leftOut,
      candidatesReturned: sample.candidates.length,
    };
    const goal = `p99 <= ${size.goalUs} µs`;
    results.push({
      name: `selectCandidates @ ${label(size.orchestrators)} orchestrators`,
      parameters: { ...parameters, iterations: selector.samples },
      measured: { ...selector },
      goal,
      pass: selector.p99Us <= size.goalUs,
    });
    progress(`selection: ${label(size.orchestrators)} orchestrators: p50 ${selector.p50Us} µs, p99 ${selector.p99Us} µs`);
    if (routed !== undefined) {
      results.push({
        name: `Router.route @ ${label(size.orchestrators)} orchestrators`,
        parameters: { ...parameters, maxPricePerUnit: ceiling.text, iterations: routed.samples, timedInTurnsWith: "selectCandidates" },
        measured: { ...routed },
        baseline: { ...selector },
        ratio: Math.round((routed.p99Us / selector.p99Us) * 1_000) / 1_000,
        goal,
        pass: routed.p99Us <= size.goalUs,
      });
      progress(`selection: Router.route: p50 ${routed.p50Us} µs, p99 ${routed.p99Us} µs`);
    }

    // The same decisions while outcomes keep arriving: each decision first catches up with one new outcome (its ranking
    // moves that offer, and now and then works out the untried estimate again). Recorded outside the timed span.
    const outcomes = outcomeFeed(network);
    const [, churned] = timeCalls([outcomes, () => selectCandidates(query, context)], {
      iterations: size.iterations,
      warmup: Math.min(2_000, size.iterations / 5),
      maxMs: MAX_MS,
    }).map(summariseNs) as [LatencySummary, LatencySummary];
    results.push({
      name: `selectCandidates @ ${label(size.orchestrators)} orchestrators, an outcome recorded before each decision`,
      parameters: { ...parameters, iterations: churned.samples, outcomes: "one per decision, random offer of the capability, 5% failures" },
      measured: { ...churned },
      baseline: { ...selector },
      ratio: Math.round((churned.p99Us / selector.p99Us) * 1_000) / 1_000,
      goal,
      pass: churned.p99Us <= size.goalUs,
    });
    progress(`selection: with an outcome per decision: p50 ${churned.p50Us} µs, p99 ${churned.p99Us} µs`);
  }
  return results;
}

/** Records one outcome per call for a random offer of the benchmarked capability: the traffic a busy gateway feeds back. */
function outcomeFeed(network: SyntheticNetwork): () => void {
  const random = seededRandom(11);
  const offers = network.snapshot.offers(CAPABILITY);
  return () => {
    const offer = offers[Math.floor(random() * offers.length)];
    if (offer === undefined) return;
    network.health.record(offer, random() < 0.05 ? "http_5xx" : "success", 40 + 400 * random());
  };
}
