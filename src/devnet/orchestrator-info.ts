// The OrchestratorInfo a go-livepeer orchestrator returns for a spec, built the way upstream builds it
// (server/rpc.go orchestratorInfoWithCaps, core/orchestrator.go priceInfo and GetCapabilitiesPrices):
//  - a request without capabilities (a network listing) gets every per-(capability, model) price floored to whole
//    wei, the BYOC prices and the hardware;
//  - a capability-scoped request gets one exact price for exactly what it asked for, and no list or hardware.
import { randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { keccak256 } from "ethers/crypto";
import { toUtf8Bytes } from "ethers/utils";
import {
  CapabilitiesSchema,
  HardwareInformationSchema,
  OrchestratorInfoSchema,
  PriceInfoSchema,
  type Capabilities,
  type Capabilities_CapabilityConstraints_ModelConstraintSchema,
  type HardwareInformation,
  type OrchestratorInfo,
  type OrchestratorRequest,
  type PriceInfo,
  type TicketParamsSchema,
} from "../gen/net/lp_rpc_pb.js";
import {
  BYOC_CAPABILITY_ID,
  DEFAULT_CAPABILITY_IDS,
  PIPELINE_CAPABILITY_IDS,
  capabilityBitstring,
} from "../network/capabilities.js";
import { addPrices, weiPerUnit, type WeiPerUnit } from "../network/price.js";
import { exactPriceInfo, flooredPriceInfo } from "./price-info.js";
import { modelOffers, type SimulatedModelOffer, type SimulatedOrchestratorSpec } from "./spec.js";

/** Who is answering: the service URI and the 20-byte node account. */
export interface OrchestratorIdentity {
  /** The advertised service URI (OrchestratorInfo.transcoder): where BYOC and AI requests go. */
  readonly serviceUri: string;
  readonly address: Uint8Array;
}

/** Whether a BYOC capability is registered now; a `down` one is missing from capabilities_prices, as upstream. */
export type ByocRegistration = (name: string) => boolean;

/**
 * Seam for payments: ticket parameters for the sender of a request. None is set today, as on an off-chain
 * go-livepeer orchestrator; an on-chain devnet supplies this.
 */
export type TicketParamsProvider = (request: OrchestratorRequest) => MessageInitShape<typeof TicketParamsSchema> | undefined;

/** go-livepeer's auth tokens expire 30 minutes after issue. */
const AUTH_TOKEN_LIFETIME_SECONDS = 30n * 60n;

const LIVE_VIDEO_TO_VIDEO_ID = PIPELINE_CAPABILITY_IDS.get("live-video-to-video");

/** The error text go-livepeer returns when no requested live-video-to-video model has an idle container. */
export const ORCHESTRATOR_CAPPED_MESSAGE = "Invalid orchestrator request: OrchestratorCapped";

/**
 * What a spec makes of every answer, worked out on its first call and then kept, as a go-livepeer orchestrator keeps
 * its capabilities, prices and hardware between calls rather than rebuilding them per request: messages, shared by
 * every answer built from them (answers are encoded and sent, or read, never changed).
 */
interface SpecAnswerParts {
  readonly offers: readonly SimulatedModelOffer[];
  readonly capabilities: Capabilities;
  /** price_info of a listing: the transcoding price. */
  readonly basePrice: PriceInfo;
  /** capabilities_prices of a listing: the AI ones, then every BYOC one with its name (sent while registered). */
  readonly aiPrices: readonly PriceInfo[];
  readonly byocPrices: ReadonlyArray<{ readonly name: string; readonly price: PriceInfo }>;
  readonly hardware: readonly HardwareInformation[];
}

/** Keyed by the spec object: specs are read-only, so what is derived from one never goes stale. */
const answerParts = new WeakMap<SimulatedOrchestratorSpec, SpecAnswerParts>();

function partsOf(spec: SimulatedOrchestratorSpec): SpecAnswerParts {
  let parts = answerParts.get(spec);
  if (parts === undefined) {
    const offers = Object.freeze(modelOffers(spec));
    parts = {
      offers,
      capabilities: create(CapabilitiesSchema, advertisedCapabilities(spec, offers)),
      basePrice: create(PriceInfoSchema, exactPriceInfo(spec.transcodingPrice)),
      aiPrices: offers.map(({ capabilityId, model }) =>
        create(PriceInfoSchema, flooredPriceInfo(model.price, { capability: capabilityId, constraint: model.modelId })),
      ),
      byocPrices: spec.byoc.map((byoc) => ({
        name: byoc.name,
        price: create(PriceInfoSchema, flooredPriceInfo(byoc.pricePerSecond, { capability: BYOC_CAPABILITY_ID, constraint: byoc.name })),
      })),
      hardware: hardwareOf(spec, offers).map((init) => create(HardwareInformationSchema, init)),
    };
    answerParts.set(spec, parts);
  }
  return parts;
}

/** The answer to GetOrchestrator for this spec. */
export function orchestratorInfoFor(
  spec: SimulatedOrchestratorSpec,
  identity: OrchestratorIdentity,
  request: OrchestratorRequest,
  ticketParams?: TicketParamsProvider,
  byocRegistered: ByocRegistration = () => true,
): OrchestratorInfo {
  const parts = partsOf(spec);
  const scoped = request.capabilities;
  return create(OrchestratorInfoSchema, {
    transcoder: identity.serviceUri,
    address: identity.address,
    capabilities: parts.capabilities,
    priceInfo: scoped ? exactPriceInfo(quoteForCapabilities(spec, scoped)) : parts.basePrice,
    capabilitiesPrices: scoped ? [] : listedPrices(parts, byocRegistered),
    hardware: scoped ? [] : [...parts.hardware],
    authToken: freshAuthToken(),
    ticketParams: ticketParams?.(request),
  });
}

/**
 * The price of exactly what a scoped request asks for: the sum over every capability id keyed in `capacities`
 * and every model listed under it in the constraints, of that (capability, model) price. Unknown pairs, and BYOC
 * names (priced elsewhere upstream), add nothing; a zero sum falls back to the transcoding price.
 */
export function quoteForCapabilities(spec: SimulatedOrchestratorSpec, requested: Capabilities): WeiPerUnit {
  const offers = partsOf(spec).offers;
  let total = weiPerUnit(0n, 1n);
  for (const key of Object.keys(requested.capacities)) {
    const capabilityId = Number(key);
    const models = requested.constraints?.PerCapability[capabilityId]?.models ?? {};
    for (const modelId of Object.keys(models)) {
      const offer = findOffer(offers, capabilityId, modelId);
      if (offer) total = addPrices(total, offer.model.price);
    }
  }
  return total.num === 0n ? spec.transcodingPrice : total;
}

/**
 * go-livepeer's only discovery-time capacity gate: a scoped request naming live-video-to-video models is refused
 * when none of them has an idle container, unless it sets ignoreCapacityCheck or has no per-capability constraints.
 * Returns the error text, or undefined when the request may be answered.
 */
export function capacityRefusal(spec: SimulatedOrchestratorSpec, request: OrchestratorRequest): string | undefined {
  const perCapability = request.capabilities?.constraints?.PerCapability ?? {};
  if (request.ignoreCapacityCheck || LIVE_VIDEO_TO_VIDEO_ID === undefined) return undefined;
  const live = perCapability[LIVE_VIDEO_TO_VIDEO_ID];
  if (!live) return undefined;
  const offers = partsOf(spec).offers;
  const hasIdle = Object.keys(live.models).some(
    (modelId) => (findOffer(offers, LIVE_VIDEO_TO_VIDEO_ID, modelId)?.model.capacity ?? 0) > 0,
  );
  return hasIdle ? undefined : ORCHESTRATOR_CAPPED_MESSAGE;
}

function findOffer(offers: readonly SimulatedModelOffer[], capabilityId: number, modelId: string) {
  return offers.find((offer) => offer.capabilityId === capabilityId && offer.model.modelId === modelId);
}

type ModelConstraintInit = MessageInitShape<typeof Capabilities_CapabilityConstraints_ModelConstraintSchema>;

/** Default transcoding features plus every AI capability served, with per-model constraints. */
function advertisedCapabilities(
  spec: SimulatedOrchestratorSpec,
  offers: readonly SimulatedModelOffer[],
): MessageInitShape<typeof CapabilitiesSchema> {
  const capacities: Record<number, number> = {};
  for (const id of DEFAULT_CAPABILITY_IDS) capacities[id] = 1;
  const perCapability: Record<number, { models: Record<string, ModelConstraintInit> }> = {};
  for (const { capabilityId, model } of offers) {
    const inUse = model.capacityInUse ?? 0;
    capacities[capabilityId] = (capacities[capabilityId] ?? 0) + model.capacity + inUse;
    const models = (perCapability[capabilityId] ??= { models: {} }).models;
    models[model.modelId] = {
      warm: model.warm,
      capacity: model.capacity,
      runnerVersion: model.runnerVersion,
      capacityInUse: inUse,
    };
  }
  const aiIds = offers.map((offer) => offer.capabilityId);
  return {
    bitstring: capabilityBitstring(new Set([...DEFAULT_CAPABILITY_IDS, ...aiIds])),
    capacities,
    version: spec.version,
    // minVersion stays empty: upstream sets it only on orchestrators that manage remote AI workers.
    constraints: { PerCapability: perCapability },
  };
}

/** The listing's capabilities_prices: whole wei per unit, floored, then the BYOC per-second prices registered now. */
function listedPrices(parts: SpecAnswerParts, byocRegistered: ByocRegistration): PriceInfo[] {
  const prices = [...parts.aiPrices];
  for (const { name, price } of parts.byocPrices) if (byocRegistered(name)) prices.push(price);
  return prices;
}

/** One HardwareInformation per (pipeline, model), each on GPU "0" of its worker. */
function hardwareOf(
  spec: SimulatedOrchestratorSpec,
  offers: readonly SimulatedModelOffer[],
): MessageInitShape<typeof HardwareInformationSchema>[] {
  return offers.map(({ pipeline, model }) => ({
    pipeline,
    modelId: model.modelId,
    gpuInfo: {
      "0": {
        id: stableGpuId(`${spec.name}/${pipeline}/${model.modelId}`),
        name: model.gpu.name,
        major: model.gpu.major,
        minor: model.gpu.minor,
        memoryFree: model.gpu.memoryFree,
        memoryTotal: model.gpu.memoryTotal,
      },
    },
  }));
}

/** An NVIDIA-style "GPU-<uuid>" id that stays the same across runs. */
function stableGpuId(seed: string): string {
  const hex = keccak256(toUtf8Bytes(seed)).slice(2, 34);
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function freshAuthToken() {
  const nowSeconds = BigInt(Math.floor(Date.now() / 1000));
  // One draw for both: 32 bytes of token, 8 of session id.
  const random = randomBytes(40);
  return {
    token: new Uint8Array(random.subarray(0, 32)),
    sessionId: random.toString("hex", 32, 40),
    expiration: nowSeconds + AUTH_TOKEN_LIFETIME_SECONDS,
  };
}
