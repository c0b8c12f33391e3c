// GetNetworkCapabilities: the current network snapshot as the public protobuf API.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { getAddress, hexlify } from "ethers";
import {
  GetNetworkCapabilitiesResponseSchema,
  OfferSchema,
  ObservationSchema,
  OrchestratorEntrySchema,
  PriceSource,
  type GetNetworkCapabilitiesRequest,
  type GetNetworkCapabilitiesResponse,
  type Offer as OfferMessage,
  type OrchestratorEntry,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import { CAPABILITY_DISPLAY_NAMES } from "../network/capabilities.js";
import type { Offer } from "../network/offers.js";
import type { NetworkSnapshot, Observation, OrchestratorState } from "../network/snapshot.js";
import { SnapshotMemo } from "../network/snapshot-memo.js";
import { mapInSlices } from "../util/slices.js";
import { similarNames } from "../util/similar-names.js";
import { reusable } from "./reusable-answers.js";
import { validateCapabilityName } from "./validate-request.js";

/** The answers of each snapshot, by filter: the capability is one the snapshot offers (checked first), so few keys. */
const answers = new SnapshotMemo<Promise<GetNetworkCapabilitiesResponse>>();

const PRICE_SOURCES = { exact: PriceSource.EXACT, listed: PriceSource.LISTED, unknown: PriceSource.UNKNOWN } as const;

function offerMessage(offer: Offer): OfferMessage {
  return create(OfferSchema, {
    capability: offer.capability,
    capabilityId: offer.capabilityId,
    modelId: offer.modelId,
    warm: offer.warm,
    capacity: offer.capacity,
    capacityInUse: offer.capacityInUse,
    runnerVersion: offer.runnerVersion,
    price: offer.price ? { numerator: offer.price.num.toString(), denominator: offer.price.den.toString() } : undefined,
    priceSource: PRICE_SOURCES[offer.priceSource],
  });
}

function observationMessage(observation: Observation) {
  return create(ObservationSchema, {
    lastSeen: observation.lastSeen !== undefined ? timestampFromMs(observation.lastSeen) : undefined,
    discoveryLatency: observation.latencyMs !== undefined ? durationFromMs(Math.round(observation.latencyMs)) : undefined,
    lastError: observation.lastError ?? "",
    lastErrorTime: observation.lastErrorTime !== undefined ? timestampFromMs(observation.lastErrorTime) : undefined,
    consecutiveFailures: observation.consecutiveFailures,
    reachable: observation.reachable,
  });
}

function checksummed(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length === 20 ? getAddress(hexlify(bytes)) : "";
}

export function orchestratorEntry(state: OrchestratorState): OrchestratorEntry {
  const info = state.info?.decode();
  return create(OrchestratorEntrySchema, {
    uri: state.uri,
    orchUri: info?.transcoder ?? "",
    address: checksummed(info?.ticketParams?.recipient),
    localAddress: checksummed(info?.address),
    capabilities: info?.capabilities,
    priceInfo: info?.priceInfo,
    capabilitiesPrices: info?.capabilitiesPrices ?? [],
    hardware: info?.hardware ?? [],
    offers: state.offers.map(offerMessage),
    observation: observationMessage(state.observation),
  });
}

function offersCapability(state: OrchestratorState, capability: string): boolean {
  return state.offers.some((offer) => offer.capability === capability);
}

/**
 * The listing of a snapshot's orchestrators (usable ones, or all), optionally only those offering one capability.
 * Built once per snapshot and filter, a slice of orchestrators at a time with the event loop let through in between:
 * at 1,000 orchestrators it takes over a second (decoding each info, encoding 5 MB), which in one piece would hold
 * every routing decision up. gRPC callers get the binary encoding made along the way; Connect JSON callers get JSON
 * made the same way, on the first such call.
 */
export async function getNetworkCapabilities(
  snapshot: NetworkSnapshot,
  request: Pick<GetNetworkCapabilitiesRequest, "capability" | "includeUnreachable">,
): Promise<GetNetworkCapabilitiesResponse> {
  let orchestrators = request.includeUnreachable ? [...snapshot.orchestrators] : snapshot.usableOrchestrators();
  if (request.capability !== "") {
    validateCapabilityName(request.capability, "capability");
    if (!snapshot.capabilities().includes(request.capability)) {
      const similar = similarNames(request.capability, snapshot.capabilities());
      throw new ConnectError(
        `no orchestrator offers capability ${JSON.stringify(request.capability)}` +
          (similar.length > 0 ? `; did you mean ${similar.map((s) => JSON.stringify(s)).join(", ")}?` : ""),
        Code.NotFound,
      );
    }
    orchestrators = orchestrators.filter((state) => offersCapability(state, request.capability));
  }
  const key = `${request.includeUnreachable ? "all" : "usable"}/${request.capability}`;
  return answers.getAsync(snapshot, key, () => buildAnswer(snapshot, orchestrators));
}

async function buildAnswer(snapshot: NetworkSnapshot, orchestrators: readonly OrchestratorState[]): Promise<GetNetworkCapabilitiesResponse> {
  // The answer's encoding as toBinary writes it: each entry as field 1, then the other fields in field order.
  const writer = new BinaryWriter();
  const entries = await mapInSlices(orchestrators, (state) => {
    const entry = orchestratorEntry(state);
    writer.tag(ORCHESTRATORS_FIELD, WireType.LengthDelimited).bytes(toBinary(OrchestratorEntrySchema, entry));
    return entry;
  });
  const answer = create(GetNetworkCapabilitiesResponseSchema, {
    capabilitiesNames: Object.fromEntries(CAPABILITY_DISPLAY_NAMES),
    snapshotTime: timestampFromMs(snapshot.createdAt),
    snapshotVersion: BigInt(snapshot.version),
  });
  // Encoded before the entries join it: they are in the writer already, first, where toBinary puts field 1.
  writer.raw(toBinary(GetNetworkCapabilitiesResponseSchema, answer));
  const otherFieldsJson = toJsonString(GetNetworkCapabilitiesResponseSchema, answer);
  answer.orchestrators = entries;
  return reusable(answer, { binary: writer.finish(), json: () => listingJson(entries, otherFieldsJson) });
}

/**
 * The answer's canonical JSON as toJsonString writes it, for Connect JSON callers: the entries (field 1, so first)
 * encoded a slice at a time, then the other fields.
 */
async function listingJson(entries: readonly OrchestratorEntry[], otherFieldsJson: string): Promise<string> {
  if (entries.length === 0) return otherFieldsJson;
  const encoded = await mapInSlices(entries, (entry) => toJsonString(OrchestratorEntrySchema, entry));
  const others = otherFieldsJson === "{}" ? "" : `,${otherFieldsJson.slice(1, -1)}`;
  return `{"orchestrators":[${encoded.join(",")}]${others}}`;
}

/** GetNetworkCapabilitiesResponse.orchestrators, the first field. */
const ORCHESTRATORS_FIELD = GetNetworkCapabilitiesResponseSchema.field.orchestrators.number;
