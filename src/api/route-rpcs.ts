// Route and ReportOutcome: the routing decision and its feedback, as the public API.
import { create } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  LatencySource,
  PriceSource,
  ReportOutcomeResponseSchema,
  RouteResponseSchema,
  WarmPolicy,
  WeiPriceSchema,
  type ReportOutcomeRequest,
  type ReportOutcomeResponse,
  type RouteRequest,
  type RouteResponse,
  type WeiPrice,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { WeiPerUnit } from "../network/price.js";
import type { Router } from "../routing/router.js";
import type { WarmPolicy as Policy } from "../routing/selector.js";
import { candidateHealthSummary, cachedRetryProfileMessage, healthSummary, isSharedHealthSummary, outcomeFromMessage, wholeMilliseconds } from "./health-messages.js";
import { encodedBy } from "./reusable-answers.js";
import { encodeRouteResponse, encodeRouteResponseJson } from "./route-answer-encoding.js";
import { usdPerUnit } from "./usd.js";
import type { EthUsdRate } from "../network/currency.js";

const WARM_POLICIES: Readonly<Record<number, Policy>> = {
  [WarmPolicy.UNSPECIFIED]: "prefer",
  [WarmPolicy.PREFER]: "prefer",
  [WarmPolicy.REQUIRE]: "require",
  [WarmPolicy.ANY]: "any",
};
const PRICE_SOURCES = { exact: PriceSource.EXACT, listed: PriceSource.LISTED, unknown: PriceSource.UNKNOWN } as const;
const LATENCY_SOURCES = { jobs: LatencySource.JOBS, discovery: LatencySource.DISCOVERY, none: LatencySource.UNSPECIFIED } as const;

/**
 * Messages shared between responses (they are never modified once built): an offer's price is the same object for
 * the life of its snapshot, so its message is built once rather than on every Route.
 */
const priceMessages = new WeakMap<WeiPerUnit, WeiPrice>();

export function weiPrice(price: WeiPerUnit | undefined): WeiPrice | undefined {
  if (price === undefined) return undefined;
  let message = priceMessages.get(price);
  if (message === undefined) {
    message = create(WeiPriceSchema, { numerator: price.num.toString(), denominator: price.den.toString() });
    priceMessages.set(price, message);
  }
  return message;
}

export function route(router: Router, request: RouteRequest, rate: EthUsdRate | undefined): RouteResponse {
  const warm = WARM_POLICIES[request.warm];
  if (warm === undefined) throw new ConnectError(`warm ${request.warm} is not a WarmPolicy value`, Code.InvalidArgument);
  const decision = router.route({
    capability: request.capability,
    modelId: request.modelId,
    maxPricePerUnit: request.maxPricePerUnit,
    region: request.region,
    count: request.count,
    excludeOrchestrators: request.excludeOrchestrators,
    warm,
  });
  // Built as the plain objects create() makes (protobuf-es messages are plain objects, and the types list every
  // field): create() walks the schema field by field, which cost about as much as routing on every Route.
  const response: RouteResponse = {
    $typeName: "livepeer.gateway.v1.RouteResponse",
    routeId: decision.routeId,
    candidates: decision.candidates.map((candidate) => ({
      $typeName: "livepeer.gateway.v1.Candidate",
      orchUri: candidate.orchestrator.info?.transcoder ?? candidate.offer.orchestratorUri,
      orchestratorUri: candidate.offer.orchestratorUri,
      address: candidate.offer.address,
      modelId: candidate.offer.modelId,
      price: weiPrice(candidate.offer.price),
      priceSource: PRICE_SOURCES[candidate.offer.priceSource],
      priceUsd: candidate.offer.price && rate ? usdPerUnit(candidate.offer.price, rate) : "",
      warm: candidate.offer.warm,
      observedLatency: candidate.latencyMs === undefined ? undefined : wholeMilliseconds(candidate.latencyMs),
      latencySource: LATENCY_SOURCES[candidate.latencySource],
      health: candidateHealthSummary(router.health, candidate.offer),
      region: candidate.region ?? "",
      score: candidate.score,
      reason: candidate.reason,
    })),
    ceiling: weiPrice(decision.ceiling?.price),
    ceilingSource: decision.ceiling?.source ?? "",
    retryProfile: cachedRetryProfileMessage(decision.retryProfile),
    summary: decision.summary,
  };
  const offers = decision.candidates.map((candidate) => candidate.offer);
  return encodedBy(response, {
    binary: () => encodeRouteResponse(response, offers, isSharedHealthSummary),
    json: () => encodeRouteResponseJson(response, offers, isSharedHealthSummary),
  });
}

export function reportOutcome(router: Router, request: ReportOutcomeRequest): ReportOutcomeResponse {
  const outcome = outcomeFromMessage(request.outcome);
  if (outcome === undefined) throw new ConnectError(`outcome ${request.outcome} is not a valid OutcomeClass`, Code.InvalidArgument);
  if (request.latency === undefined) throw new ConnectError("latency is required", Code.InvalidArgument);
  const state = router.reportOutcome(request.routeId, request.orchestratorUri, outcome, durationMs(request.latency));
  return create(ReportOutcomeResponseSchema, { health: healthSummary(state) });
}
