// The selector on synthetic snapshots: load spread among near-equals, determinism with a seed, exact ceilings.
import { describe, expect, it } from "vitest";
import type { Offer } from "../src/network/offers.js";
import { weiPerUnit, type WeiPerUnit } from "../src/network/price.js";
import { NetworkSnapshot, type OrchestratorState } from "../src/network/snapshot.js";
import { HealthTracker, type HealthOptions } from "../src/routing/health.js";
import { DEFAULT_RANKING_WEIGHTS, selectCandidates, type RankingWeights, type RouteQuery } from "../src/routing/selector.js";

/** The default weights without exploration, for tests that compare exact orders. */
const WEIGHTS: RankingWeights = { ...DEFAULT_RANKING_WEIGHTS, explorationShare: 0 };
import { seededRandom } from "../src/util/random.js";

function orchestrator(uri: string, price: WeiPerUnit, latencyMs: number, warm = true): OrchestratorState {
  const offer: Offer = {
    orchestratorUri: uri, capability: "depth", capabilityId: 37, modelId: "", warm,
    capacity: 0, capacityInUse: 0, runnerVersion: "", price, priceSource: "exact",
  };
  return { uri, offers: [offer], usable: true, observation: { consecutiveFailures: 0, reachable: true, latencyMs } };
}

const query: RouteQuery = { capability: "depth", count: 1, warm: "prefer" };

function firstPicks(states: OrchestratorState[], runs: number, seed = 1): Map<string, number> {
  const snapshot = new NetworkSnapshot(1, 0, states);
  const context = { snapshot, health: new HealthTracker(), weights: WEIGHTS, regionOf: () => undefined, random: seededRandom(seed) };
  const picks = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const uri = selectCandidates(query, context).candidates[0]?.offer.orchestratorUri ?? "none";
    picks.set(uri, (picks.get(uri) ?? 0) + 1);
  }
  return picks;
}

describe("selection", () => {
  it("spreads load evenly over equal orchestrators instead of herding onto one", () => {
    const states = ["a", "b", "c", "d"].map((name) => orchestrator(`https://${name}:8935`, weiPerUnit(100n, 1n), 20));
    const picks = firstPicks(states, 4000);
    expect(picks.size).toBe(4);
    for (const count of picks.values()) expect(count).toBeGreaterThan(800); // 1000 expected each; 6+ sigma margin
  });

  it("keeps a clearly better orchestrator first and never spreads onto clearly worse ones", () => {
    const states = [
      orchestrator("https://fast:8935", weiPerUnit(100n, 1n), 10),
      orchestrator("https://slow:8935", weiPerUnit(100n, 1n), 200),
      orchestrator("https://pricey:8935", weiPerUnit(100_000n, 1n), 10),
    ];
    expect(firstPicks(states, 500)).toEqual(new Map([["https://fast:8935", 500]]));
  });

  it("is repeatable with a seed", () => {
    const states = ["a", "b", "c"].map((name) => orchestrator(`https://${name}:8935`, weiPerUnit(7n, 3n), 15));
    expect(firstPicks(states, 200, 42)).toEqual(firstPicks(states, 200, 42));
  });

  it("compares prices exactly at the ceiling, even where floats cannot tell them apart", () => {
    const ceiling = weiPerUnit(10n ** 30n + 1n, 10n ** 30n); // 1 + 1e-30 wei
    const states = [
      orchestrator("https://at:8935", weiPerUnit(10n ** 30n + 1n, 10n ** 30n), 10),
      orchestrator("https://above:8935", weiPerUnit(10n ** 30n + 2n, 10n ** 30n), 10),
    ];
    const selection = selectCandidates(
      { ...query, count: 5, ceiling },
      { snapshot: new NetworkSnapshot(1, 0, states), health: new HealthTracker(), weights: WEIGHTS, regionOf: () => undefined, random: Math.random },
    );
    expect(selection.candidates.map((c) => c.offer.orchestratorUri)).toEqual(["https://at:8935"]);
    expect(selection.leftOut["over ceiling"]).toBe(1);
  });
});

/** A network of depth offers at one price, each with a discovery round trip; a tracker with a controllable clock. */
function network(roundTrips: Record<string, number>, options: { weights?: RankingWeights; health?: Partial<HealthOptions> } = {}) {
  let now = 1_700_000_000_000;
  const health = new HealthTracker(options.health ?? {}, () => now);
  const states = Object.entries(roundTrips).map(([name, rtt]) => orchestrator(`https://${name}:8935`, weiPerUnit(100n, 1n), rtt));
  const snapshot = new NetworkSnapshot(1, 0, states);
  const weights = options.weights ?? WEIGHTS;
  const context = { snapshot, health, weights, regionOf: () => undefined, random: seededRandom(3) };
  /** Successes one second apart (the key stays warm, so none reads as a cold start). */
  const jobs = (name: string, latencies: number[]) => {
    for (const latency of latencies) {
      now += 1_000;
      health.record({ orchestratorUri: `https://${name}:8935`, capability: "depth", modelId: "" }, "success", latency);
    }
  };
  const order = (q: Partial<RouteQuery> = {}) =>
    selectCandidates({ ...query, count: 10, ...q }, context).candidates.map((c) => c.offer.orchestratorUri.slice(8, -5));
  return { health, context, jobs, order, advance: (ms: number) => (now += ms) };
}

describe("ranking orchestrators without job history", () => {
  it("ranks an untried orchestrator at the median job latency (adjusted by its round trip), not at its round trip", () => {
    // fast, mid and slow have job history (100, 250, 400 ms); fresh has none but the quickest discovery round trip.
    const { jobs, order, context } = network({ fast: 30, mid: 30, slow: 30, fresh: 25 });
    jobs("fast", [100, 100, 100]);
    jobs("mid", [250, 250, 250]);
    jobs("slow", [400, 400, 400]);
    // Ranked on its 25 ms round trip against 100-400 ms job latencies, fresh came first every time. Now it is taken
    // for a typical orchestrator 5 ms closer than the others: ~245 ms, behind fast, yet ahead of mid and slow, so it
    // still gets tried.
    for (let i = 0; i < 20; i++) expect(order()).toEqual(["fast", "fresh", "mid", "slow"]);
    const fresh = selectCandidates({ ...query, count: 4 }, context).candidates.find((c) => c.offer.orchestratorUri.includes("fresh"));
    expect(fresh).toMatchObject({ latencySource: "discovery", latencyMs: 25, rankedLatencyMs: 245 });
    expect(fresh?.reason).toMatch(/no job history: ranked as ~245 ms, the median job latency adjusted by its round trip; 25 ms discovery round trip/);
  });

  it("explores: a share of decisions puts a lower-ranked orchestrator first, none without exploration", () => {
    const firsts = (explorationShare: number) => {
      const { jobs, order } = network({ fast: 20, slow: 20 }, { weights: { ...WEIGHTS, explorationShare } });
      jobs("fast", [50, 50, 50]);
      jobs("slow", [500, 500, 500]);
      let slowFirst = 0;
      for (let i = 0; i < 2_000; i++) if (order()[0] === "slow") slowFirst++;
      return slowFirst;
    };
    expect(firsts(0)).toBe(0);
    const explored = firsts(0.1);
    expect(explored).toBeGreaterThan(120); // 10 % of 2,000 is 200
    expect(explored).toBeLessThan(280);
  });

  it("ranks on round trips alone while nobody has job history", () => {
    const { order } = network({ a: 50, b: 10, c: 200 });
    expect(order()).toEqual(["b", "a", "c"]);
  });

  it("moves an orchestrator to its place as outcomes arrive, without a new snapshot", () => {
    const { jobs, order } = network({ a: 20, b: 20, c: 20 }, { weights: { ...WEIGHTS, nearEqualTolerance: 0 } });
    jobs("a", [100]);
    jobs("b", [200]);
    jobs("c", [280]);
    expect(order()).toEqual(["a", "b", "c"]);
    jobs("c", Array.from({ length: 15 }, () => 10)); // c got much faster
    expect(order()).toEqual(["c", "a", "b"]);
    jobs("b", Array.from({ length: 15 }, () => 5));
    expect(order()).toEqual(["b", "c", "a"]);
  });
});

describe("the walk over pre-ranked offers", () => {
  it("keeps its ranking current: after any outcomes, the same order and scores as a ranking built from scratch", () => {
    const names = Array.from({ length: 40 }, (_, i) => `o${i}`);
    const rtts = Object.fromEntries([["anchor", 20], ...names.map((name, i) => [name, 10 + ((i * 37) % 50)])]);
    const exact = { ...WEIGHTS, nearEqualTolerance: 0 }; // no shuffling: orders compare exactly
    // No ejections: a probe handed out by one decision would make the next one differ for a reason of its own.
    const { health, context, jobs, advance } = network(rtts, { weights: exact, health: { consecutiveFailuresToEject: Infinity } });
    // The fastest job latency and the one price fix both rankings' scales alike (a new ranking takes them afresh).
    jobs("anchor", [9]); // below every round trip: no untried estimate ties with it
    const random = seededRandom(5);
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 10; i++) {
        advance(1_000);
        const name = names[Math.floor(random() * names.length)] as string;
        const outcome = random() < 0.15 ? "http_5xx" : "success";
        health.record({ orchestratorUri: `https://${name}:8935`, capability: "depth", modelId: "" }, outcome, 50 + 500 * random());
      }
      const incremental = selectCandidates({ ...query, count: 41 }, context);
      const fresh = selectCandidates({ ...query, count: 41 }, { ...context, weights: { ...exact } }); // new weights object: a new ranking
      expect(incremental.candidates.map((c) => [c.offer.orchestratorUri, c.score])).toEqual(fresh.candidates.map((c) => [c.offer.orchestratorUri, c.score]));
    }
  });

  it("stops early on a large network, and still counts every offer when none fits", () => {
    const states = Array.from({ length: 300 }, (_, i) => orchestrator(`https://o${i}:8935`, weiPerUnit(BigInt(100 + i), 1n), 20 + (i % 7)));
    const context = { snapshot: new NetworkSnapshot(1, 0, states), health: new HealthTracker(), weights: WEIGHTS, regionOf: () => undefined, random: seededRandom(1) };
    const some = selectCandidates({ ...query, count: 3 }, context);
    expect(some.considered).toBe(300);
    expect(some.examined).toBeLessThan(300);
    expect(some.candidates).toHaveLength(3);
    const none = selectCandidates({ ...query, count: 3, ceiling: weiPerUnit(99n, 1n) }, context);
    expect(none.candidates).toHaveLength(0);
    expect(none.leftOut["over ceiling"]).toBe(300);
    expect(none.cheapestOverCeiling).toEqual(weiPerUnit(100n, 1n));
  });

  it("puts the requested region first, then warm offers, whatever their scores", () => {
    const states = [
      orchestrator("https://near-cold:8935", weiPerUnit(100n, 1n), 10, false),
      orchestrator("https://near-warm:8935", weiPerUnit(100n, 1n), 300),
      orchestrator("https://far-warm:8935", weiPerUnit(100n, 1n), 5),
      orchestrator("https://far-cold:8935", weiPerUnit(100n, 1n), 1, false),
    ];
    const regions = new Map([["https://near-cold:8935", "eu"], ["https://near-warm:8935", "eu"], ["https://far-warm:8935", "us"]]);
    const context = { snapshot: new NetworkSnapshot(1, 0, states), health: new HealthTracker(), weights: WEIGHTS, regionOf: (uri: string) => regions.get(uri), random: seededRandom(1) };
    const picked = selectCandidates({ ...query, count: 4, region: "eu" }, context).candidates.map((c) => c.offer.orchestratorUri.slice(8, -5));
    expect(picked).toEqual(["near-warm", "near-cold", "far-warm", "far-cold"]);
    const required = selectCandidates({ ...query, count: 4, warm: "require" }, context);
    expect(required.candidates.map((c) => c.offer.orchestratorUri.slice(8, -5))).toEqual(["far-warm", "near-warm"]);
    expect(required.leftOut.cold).toBe(2);
  });

  it("puts an ejected orchestrator's due probe first, and hands it only to a decision that returns it", () => {
    const { health, jobs, order, advance } = network({ good: 20, flaky: 20 }, { weights: { ...WEIGHTS, nearEqualTolerance: 0 } });
    jobs("good", [100]);
    const flaky = { orchestratorUri: "https://flaky:8935", capability: "depth", modelId: "" };
    for (let i = 0; i < 5; i++) health.record(flaky, "http_5xx", 50);
    expect(order()).toEqual(["good"]);
    advance(31_000); // the ejection time is up
    expect(order({ exclude: new Set([flaky.orchestratorUri]) })).toEqual(["good"]); // not returned: the probe stays
    expect(health.availability(flaky)).toBe("probe");
    // Ranked where five failures put it, the probe would never be sent and flaky would stay ejected for good.
    expect(order()).toEqual(["flaky", "good"]);
    expect(health.availability(flaky)).toBe("ejected"); // the probe is out
    expect(order()).toEqual(["good"]);
    advance(1_000);
    jobs("flaky", [90]); // the probe succeeded: back in rotation, its old failures forgotten
    expect(health.state(flaky)).toMatchObject({ ejected: false, successRate: 1, samples: 1 });
    expect(order()).toEqual(["flaky", "good"]);
  });
});

describe("reliability in the score", () => {
  it("counts a success rate only once it rests on a few outcomes, so one early failure does not starve an orchestrator", () => {
    const { health, jobs, order, context } = network({ a: 20, b: 20 }, { weights: { ...WEIGHTS, nearEqualTolerance: 0 } });
    jobs("a", [110]);
    jobs("b", [100]);
    health.record({ orchestratorUri: "https://b:8935", capability: "depth", modelId: "" }, "http_5xx", 50);
    expect(order()).toEqual(["b", "a"]); // one failure in two outcomes is not held against b yet
    const early = selectCandidates({ ...query, count: 2 }, context).candidates.find((c) => c.offer.orchestratorUri === "https://b:8935");
    expect(early).toMatchObject({ successRate: 0.5 });
    expect(early?.reason).toMatch(/50% success \(2 outcomes: too few to count yet\)/);
    jobs("b", [100, 100, 100]); // five outcomes: one failure in five now counts
    expect(order()).toEqual(["a", "b"]);
  });
});
