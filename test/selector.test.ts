// The selector on synthetic snapshots: load spread among near-equals, determinism with a seed, exact ceilings.
import { describe, expect, it } from "vitest";
import type { Offer } from "../src/network/offers.js";
import { weiPerUnit, type WeiPerUnit } from "../src/network/price.js";
import { NetworkSnapshot, type OrchestratorState } from "../src/network/snapshot.js";
import { HealthTracker } from "../src/routing/health.js";
import { DEFAULT_RANKING_WEIGHTS, selectCandidates, type RouteQuery } from "../src/routing/selector.js";
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
  const context = { snapshot, health: new HealthTracker(), weights: DEFAULT_RANKING_WEIGHTS, regionOf: () => undefined, random: seededRandom(seed) };
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
      { snapshot: new NetworkSnapshot(1, 0, states), health: new HealthTracker(), weights: DEFAULT_RANKING_WEIGHTS, regionOf: () => undefined, random: Math.random },
    );
    expect(selection.candidates.map((c) => c.offer.orchestratorUri)).toEqual(["https://at:8935"]);
    expect(selection.leftOut["over ceiling"]).toBe(1);
  });
});
