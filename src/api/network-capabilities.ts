// GetNetworkCapabilities: the current network snapshot as the public protobuf API.
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
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
import { mapInSlices } from "../util/slices.js";
import { similarNames } from "../util/similar-names.js";
import { reusable } from "./reusable-answers.js";
import { validateCapabilityName } from "./validate-request.js";

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
 * Each orchestrator's entry of the listings, encoded once per state (a state belongs to a snapshot, or to several
 * when it is unusable, and never changes): about 4.5 KB per orchestrator with 20 capabilities, kept as long as the
 * state is. Only encodings are kept: a decoded entry is ~25 KB of small objects, and a listing of 10,000 kept decoded
 * held 240 MB, once per capability asked for.
 */
const entryBinaries = new WeakMap<OrchestratorState, Uint8Array>();
const entryJsons = new WeakMap<OrchestratorState, Buffer>();

function entryBinary(state: OrchestratorState): Uint8Array {
  let bytes = entryBinaries.get(state);
  if (bytes === undefined) entryBinaries.set(state, (bytes = toBinary(OrchestratorEntrySchema, orchestratorEntry(state))));
  return bytes;
}

/** The entry's JSON as UTF-8: a listing's JSON is then its entries' bytes joined, not megabytes of text encoded. */
function entryJson(state: OrchestratorState): Buffer {
  let bytes = entryJsons.get(state);
  if (bytes === undefined) {
    const text = toJsonString(OrchestratorEntrySchema, fromBinary(OrchestratorEntrySchema, entryBinary(state)));
    entryJsons.set(state, (bytes = Buffer.from(text)));
  }
  return bytes;
}

/**
 * The listing of a snapshot's orchestrators (usable ones, or all), optionally only those offering one capability.
 * Each entry is built once per snapshot, a slice of orchestrators at a time with the event loop let through in
 * between: at 1,000 orchestrators that takes over a second (decoding each info, encoding 5 MB), which in one piece
 * would hold every routing decision up. Each call then joins the entries' encodings, in the format asked for.
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
  const entries = await mapInSlices(orchestrators, entryBinary);
  return listing(snapshot, orchestrators, entries);
}

/**
 * The answer of one call, built from its entries' encodings: the unary fast paths send those, joined. Other paths
 * (gRPC-Web, compressed requests) encode the message as connect-node does, which reads `orchestrators`: they are
 * decoded then, for that call only.
 */
function listing(snapshot: NetworkSnapshot, orchestrators: readonly OrchestratorState[], entries: readonly Uint8Array[]): GetNetworkCapabilitiesResponse {
  const others = create(GetNetworkCapabilitiesResponseSchema, {
    capabilitiesNames: Object.fromEntries(CAPABILITY_DISPLAY_NAMES),
    snapshotTime: timestampFromMs(snapshot.createdAt),
    snapshotVersion: BigInt(snapshot.version),
  });
  let decoded: OrchestratorEntry[] | undefined;
  const answer: GetNetworkCapabilitiesResponse = {
    ...others,
    get orchestrators() {
      return (decoded ??= entries.map((bytes) => fromBinary(OrchestratorEntrySchema, bytes)));
    },
  };
  return reusable(answer, {
    binary: listingBinary(entries, toBinary(GetNetworkCapabilitiesResponseSchema, others)),
    json: async () => listingJson(await mapInSlices(orchestrators, entryJson), toJsonString(GetNetworkCapabilitiesResponseSchema, others)),
  });
}

/** The answer's encoding as toBinary writes it: each entry as field 1, then the other fields in field order. */
function listingBinary(entries: readonly Uint8Array[], otherFields: Uint8Array): Uint8Array {
  const writer = new BinaryWriter();
  for (const bytes of entries) writer.tag(ORCHESTRATORS_FIELD, WireType.LengthDelimited).bytes(bytes);
  return writer.raw(otherFields).finish();
}

const COMMA = Buffer.from(",");

/**
 * The answer's canonical JSON as toJsonString writes it, for Connect JSON callers: the entries (field 1, so first),
 * then the other fields.
 */
function listingJson(entries: readonly Buffer[], otherFieldsJson: string): Uint8Array {
  if (entries.length === 0) return Buffer.from(otherFieldsJson);
  const others = otherFieldsJson === "{}" ? "" : `,${otherFieldsJson.slice(1, -1)}`;
  const parts: Buffer[] = [Buffer.from('{"orchestrators":[')];
  for (const [i, entry] of entries.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(entry);
  }
  parts.push(Buffer.from(`]${others}}`));
  return Buffer.concat(parts);
}

/** GetNetworkCapabilitiesResponse.orchestrators, the first field. */
const ORCHESTRATORS_FIELD = GetNetworkCapabilitiesResponseSchema.field.orchestrators.number;
