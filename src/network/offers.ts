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

/**
 * The one string that names an (orchestrator, capability, model): health is kept under it, and snapshot offers carry
 * it precomputed so that routing looks health up with a single flat-map get. JSON keeps any two triples apart.
 */
export function offerKey(orchestratorUri: string, capability: string, modelId: string): string {
  return JSON.stringify([orchestratorUri, capability, modelId]);
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
 * The offers of one orchestrator's info. `intern` maps each string kept from the info (model ids, runner versions,
 * BYOC names) to one shared copy, so that an index of many orchestrators holds each such string once.
 */
export function buildOffers(
  uri: string,
  info: OrchestratorInfo,
  quotes: ReadonlyMap<string, PriceQuote>,
  intern: (value: string) => string = (value) => value,
): Offer[] {
  const listed = listedPrices(info);
  const offers: Offer[] = [];
  for (const { capabilityId, modelId } of advertisedModels(info)) {
    const model = info.capabilities?.constraints?.PerCapability[capabilityId]?.models[modelId];
    const key = quoteKey(capabilityId, modelId);
    const quote = quotes.get(key);
    offers.push({
      orchestratorUri: uri,
      capability: pipelineName(capabilityId) ?? String(capabilityId),
      capabilityId,
      modelId: intern(modelId),
      warm: model?.warm ?? false,
      capacity: model?.capacity ?? 0,
      capacityInUse: model?.capacityInUse ?? 0,
      runnerVersion: intern(model?.runnerVersion ?? ""),
      ...(quote ? { price: quote.price, priceSource: "exact" as const } : listedPrice(listed.get(key))),
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
