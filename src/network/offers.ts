// Turns what one orchestrator advertised into offers: one per AI (capability, model) and one per BYOC capability.
import type { OrchestratorInfo } from "../gen/net/lp_rpc_pb.js";
import { BYOC_CAPABILITY_ID, pipelineName } from "./capabilities.js";
import { weiPerUnit, type WeiPerUnit } from "./price.js";

/**
 * exact: quoted for this (capability, model) by a capability-scoped request.
 * listed: from capabilities_prices, floored to whole wei by go-livepeer (a lower bound, exact for whole-wei prices).
 * unknown: never treated as free; a listing of 0 lands here because it may hide a sub-wei price.
 */
export type PriceSource = "exact" | "listed" | "unknown";

export interface Offer {
  readonly orchestratorUri: string;
  /** Pipeline name ("image-to-image") or BYOC capability name ("depth"). */
  readonly capability: string;
  readonly capabilityId: number;
  /** Model of a built-in pipeline; "" for BYOC. */
  readonly modelId: string;
  readonly warm: boolean;
  readonly capacity: number;
  readonly capacityInUse: number;
  readonly runnerVersion: string;
  readonly price?: WeiPerUnit;
  readonly priceSource: PriceSource;
}

/** A price the orchestrator quoted for one (capability, model), and the listed floor it was quoted against. */
export interface PriceQuote {
  readonly price: WeiPerUnit;
  readonly listedFloor: bigint | undefined;
  readonly quotedAt: number;
}

export function quoteKey(capabilityId: number, modelId: string): string {
  return `${capabilityId}/${modelId}`;
}

/** Small numbers behind offerKey: one per orchestrator URI and one per (capability, model) this process has seen. */
const orchestratorNumbers = new Map<string, number>();
const pairNumbers = new Map<string, Map<string, number>>(); // capability → model → number
let pairCount = 0;

/**
 * How many orchestrators and (capability, model) pairs get a number. The tables never shrink (a number must keep
 * naming the same thing for as long as health is kept under it), so they are capped: an orchestrator advertising
 * fresh model ids at every refresh, or a webhook listing fresh URIs, must not grow them without end. Past the cap a
 * triple gets the long key instead, which is still unique and the same every time.
 */
export const OFFER_KEY_LIMITS = { orchestrators: 100_000, pairs: 10_000 } as const;

/**
 * The one string that names an (orchestrator, capability, model): health is kept under it, and snapshot offers carry
 * it precomputed so that routing looks health up with a single flat-map get. It is short ("4127/9": the
 * orchestrator's number and the pair's) because every offer of the index holds one: at 10,000 orchestrators, keys
 * spelling out URI, capability and model took ~50 MB. Past OFFER_KEY_LIMITS it is the JSON of the triple.
 */
export function offerKey(orchestratorUri: string, capability: string, modelId: string): string {
  let orchestrator = orchestratorNumbers.get(orchestratorUri);
  if (orchestrator === undefined && orchestratorNumbers.size < OFFER_KEY_LIMITS.orchestrators) {
    orchestratorNumbers.set(orchestratorUri, (orchestrator = orchestratorNumbers.size));
  }
  let models = pairNumbers.get(capability);
  let pair = models?.get(modelId);
  if (pair === undefined && pairCount < OFFER_KEY_LIMITS.pairs) {
    if (models === undefined) pairNumbers.set(capability, (models = new Map()));
    models.set(modelId, (pair = pairCount++));
  }
  // JSON starts with "[": it never equals a numbered key.
  if (orchestrator === undefined || pair === undefined) return JSON.stringify([orchestratorUri, capability, modelId]);
  return `${orchestrator}/${pair}`;
}

/** The floored capabilities_prices entries by quoteKey (the constraint is the model id, or the BYOC name). */
export function listedPrices(info: OrchestratorInfo): Map<string, bigint> {
  const listed = new Map<string, bigint>();
  for (const entry of info.capabilitiesPrices) {
    if (entry.pixelsPerUnit <= 0n) continue;
    listed.set(quoteKey(entry.capability, entry.constraint), entry.pricePerUnit / entry.pixelsPerUnit);
  }
  return listed;
}

function listedPrice(floor: bigint | undefined): Pick<Offer, "price" | "priceSource"> {
  return floor !== undefined && floor > 0n
    ? { price: weiPerUnit(floor, 1n), priceSource: "listed" }
    : { priceSource: "unknown" };
}

/** Every AI (capability, model) the info advertises with its model constraints. */
export function advertisedModels(info: OrchestratorInfo): { capabilityId: number; modelId: string }[] {
  const models: { capabilityId: number; modelId: string }[] = [];
  for (const [id, constraints] of Object.entries(info.capabilities?.constraints?.PerCapability ?? {})) {
    const capabilityId = Number(id);
    if (pipelineName(capabilityId) === undefined) continue;
    for (const modelId of Object.keys(constraints.models)) models.push({ capabilityId, modelId });
  }
  return models;
}

/**
 * The offers of one orchestrator's info, at their listed prices (exact quotes come after: withQuotes). `intern` maps
 * each string kept from the info (model ids, runner versions, BYOC names) to one shared copy, so that an index of many
 * orchestrators holds each such string once.
 */
export function buildOffers(uri: string, info: OrchestratorInfo, intern: (value: string) => string = (value) => value): Offer[] {
  const listed = listedPrices(info);
  const offers: Offer[] = [];
  for (const { capabilityId, modelId } of advertisedModels(info)) {
    const model = info.capabilities?.constraints?.PerCapability[capabilityId]?.models[modelId];
    offers.push({
      orchestratorUri: uri,
      capability: pipelineName(capabilityId) ?? String(capabilityId),
      capabilityId,
      modelId: intern(modelId),
      warm: model?.warm ?? false,
      capacity: model?.capacity ?? 0,
      capacityInUse: model?.capacityInUse ?? 0,
      runnerVersion: intern(model?.runnerVersion ?? ""),
      ...listedPrice(listed.get(quoteKey(capabilityId, modelId))),
    });
  }
  for (const entry of info.capabilitiesPrices) {
    if (entry.capability !== BYOC_CAPABILITY_ID || entry.constraint === "") continue;
    const floor = listed.get(quoteKey(BYOC_CAPABILITY_ID, entry.constraint));
    // A listing of 0 may hide a sub-wei price: unknown, never free (see listedPrice).
    offers.push(byocOffer(uri, intern(entry.constraint), floor !== undefined && floor > 0n ? weiPerUnit(floor, 1n) : undefined));
  }
  return offers;
}

/** The offers with the exact price of every AI (capability, model) that has a quote; the others as they are. */
export function withQuotes(offers: readonly Offer[], quotes: ReadonlyMap<string, PriceQuote>): Offer[] {
  return offers.map((offer) => {
    const quote = offer.capabilityId === BYOC_CAPABILITY_ID ? undefined : quotes.get(quoteKey(offer.capabilityId, offer.modelId));
    return quote === undefined ? offer : { ...offer, price: quote.price, priceSource: "exact" };
  });
}

/** A BYOC capability as one orchestrator lists it: priced per second ("listed"), or "unknown" without a price. */
export function byocOffer(uri: string, name: string, price: WeiPerUnit | undefined): Offer {
  return {
    orchestratorUri: uri,
    capability: name,
    capabilityId: BYOC_CAPABILITY_ID,
    modelId: "",
    // BYOC containers advertise no warm state or capacity here; /process/token carries capacity.
    warm: false,
    capacity: 0,
    capacityInUse: 0,
    runnerVersion: "",
    ...(price !== undefined ? { price, priceSource: "listed" as const } : { priceSource: "unknown" as const }),
  };
}
