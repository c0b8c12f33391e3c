// ListOfferings: the network as "gateway offerings" per capability — models, orchestrators, warm counts, price
// range, regions, reliability and the retry profile in force.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  CapabilityOfferingSchema,
  ListOfferingsResponseSchema,
  ModelOfferingSchema,
  PriceRangeSchema,
  ReliabilitySchema,
  type ListOfferingsResponse,
  type PriceRange,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import { BYOC_CAPABILITY_ID } from "../network/capabilities.js";
import type { EthUsdRate } from "../network/currency.js";
import type { Offer } from "../network/offers.js";
import { comparePrices, type WeiPerUnit } from "../network/price.js";
import type { NetworkSnapshot } from "../network/snapshot.js";
import type { HealthTracker } from "../routing/health.js";
import type { Router } from "../routing/router.js";
import { retryProfileMessage } from "./health-messages.js";
import { weiPrice } from "./route-rpcs.js";
import { usdPerUnit } from "./usd.js";

/** What one unit of a capability's price pays for (ref: go-livepeer server/ai_process.go billing units). */
const UNITS: Readonly<Record<string, string>> = {
  "text-to-image": "pixel",
  "image-to-image": "pixel",
  "image-to-video": "pixel",
  upscale: "pixel",
  "segment-anything-2": "pixel",
  "image-to-text": "pixel",
  "live-video-to-video": "pixel",
  "text-to-speech": "character",
  "audio-to-text": "millisecond of audio",
  llm: "token",
};

function priceRange(offers: readonly Offer[], capability: string, rate: EthUsdRate | undefined): PriceRange {
  let min: WeiPerUnit | undefined;
  let max: WeiPerUnit | undefined;
  let unknown = 0;
  for (const { price } of offers) {
    if (price === undefined) {
      unknown++;
      continue;
    }
    if (min === undefined || comparePrices(price, min) < 0) min = price;
    if (max === undefined || comparePrices(price, max) > 0) max = price;
  }
  const byoc = offers[0]?.capabilityId === BYOC_CAPABILITY_ID;
  return create(PriceRangeSchema, {
    min: weiPrice(min),
    max: weiPrice(max),
    minUsd: min && rate ? usdPerUnit(min, rate) : "",
    maxUsd: max && rate ? usdPerUnit(max, rate) : "",
    unit: byoc ? "second" : (UNITS[capability] ?? "unit"),
    unknownPrices: unknown,
  });
}

const orchestratorCount = (offers: readonly Offer[]) => new Set(offers.map((o) => o.orchestratorUri)).size;
const warmCount = (offers: readonly Offer[]) => new Set(offers.filter((o) => o.warm).map((o) => o.orchestratorUri)).size;

function reliability(health: HealthTracker, capability: string) {
  const states = health.states({ capability });
  let successes = 0;
  let samples = 0;
  const latencies: number[] = [];
  for (const state of states) {
    samples += state.samples;
    successes += state.samples * state.successRate;
    if (state.ewmaLatencyMs !== undefined) latencies.push(state.ewmaLatencyMs);
  }
  latencies.sort((a, b) => a - b);
  const average = latencies.length > 0 ? latencies.reduce((a, b) => a + b, 0) / latencies.length : undefined;
  const p95 = latencies.length > 0 ? latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.95) - 1)] : undefined;
  return create(ReliabilitySchema, {
    availabilityPercent: samples === 0 ? 100 : (successes / samples) * 100,
    averageLatency: average === undefined ? undefined : durationFromMs(Math.round(average)),
    p95Latency: p95 === undefined ? undefined : durationFromMs(Math.round(p95)),
    samples: BigInt(samples),
    ejectedOrchestrators: states.filter((s) => s.ejected).length,
  });
}

export function listOfferings(
  snapshot: NetworkSnapshot,
  router: Router,
  regions: ReadonlyMap<string, string>,
  rate: EthUsdRate | undefined,
  capability: string,
): ListOfferingsResponse {
  const capabilities = capability === "" ? snapshot.capabilities() : [capability];
  return create(ListOfferingsResponseSchema, {
    offerings: capabilities.map((name) => {
      const offers = snapshot.offers(name);
      return create(CapabilityOfferingSchema, {
        capability: name,
        byoc: offers[0]?.capabilityId === BYOC_CAPABILITY_ID,
        orchestrators: orchestratorCount(offers),
        warmOrchestrators: warmCount(offers),
        price: priceRange(offers, name, rate),
        regions: [...new Set(offers.flatMap((o) => regions.get(o.orchestratorUri) ?? []))].sort(),
        reliability: reliability(router.health, name),
        retryProfile: retryProfileMessage(router.retryProfileFor(name)),
        ceiling: weiPrice(router.ceilingFor(name, "")?.price),
        models: snapshot
          .models(name)
          .filter((model) => model !== "")
          .map((model) => {
            const modelOffers = snapshot.offers(name, model);
            return create(ModelOfferingSchema, {
              modelId: model,
              orchestrators: orchestratorCount(modelOffers),
              warmOrchestrators: warmCount(modelOffers),
              price: priceRange(modelOffers, name, rate),
            });
          }),
      });
    }),
  });
}
