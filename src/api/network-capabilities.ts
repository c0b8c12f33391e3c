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
import { SnapshotMemo } from "../network/snapshot-memo.js";
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
 * would hold every routing decision up. The listing of every usable orchestrator, the one most asked for, is kept
 * whole in each format once asked for; other listings join their entries' encodings per call.
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
  const others = otherFields(snapshot);
  if (request.capability === "" && !request.includeUnreachable) {
    const binary = await wholeListings.getAsync(snapshot, "binary", () => wholeListingBinary(snapshot, others));
    const json = () => wholeListings.getAsync(snapshot, "json", () => wholeListingJson(snapshot, others));
    return listing(others, orchestrators, binary, json);
  }
  const entries = await mapInSlices(orchestrators, entryBinary);
  const binary = listingBinary(entries, toBinary(GetNetworkCapabilitiesResponseSchema, others));
  const json = async () => listingJson(await mapInSlices(orchestrators, entryJson), toJsonString(GetNetworkCapabilitiesResponseSchema, others));
  return listing(others, orchestrators, binary, json);
}

/** The answer's fields other than the orchestrators: the same for every listing of a snapshot. */
function otherFields(snapshot: NetworkSnapshot): GetNetworkCapabilitiesResponse {
  return create(GetNetworkCapabilitiesResponseSchema, {
    capabilitiesNames: Object.fromEntries(CAPABILITY_DISPLAY_NAMES),
    snapshotTime: timestampFromMs(snapshot.createdAt),
    snapshotVersion: BigInt(snapshot.version),
  });
}

/**
 * The answer of one call, with its encodings: the unary fast paths send those. Other paths (gRPC-Web, compressed
 * requests) encode the message as connect-node does, which reads `orchestrators`: they are decoded then, for that
 * call only.
 */
function listing(
  others: GetNetworkCapabilitiesResponse,
  orchestrators: readonly OrchestratorState[],
  binary: Uint8Array,
  json: () => Promise<Uint8Array>,
): GetNetworkCapabilitiesResponse {
  let decoded: OrchestratorEntry[] | undefined;
  const answer: GetNetworkCapabilitiesResponse = {
    ...others,
    get orchestrators() {
      return (decoded ??= orchestrators.map((state) => fromBinary(OrchestratorEntrySchema, entryBinary(state))));
    },
  };
  return reusable(answer, { binary, json });
}

/** The listing of every usable orchestrator of each snapshot, by format: kept whole, once asked for. */
const wholeListings = new SnapshotMemo<Promise<Uint8Array>>();

/** The whole listing's binary; from then on, each entry kept is a view into it (one copy of the bytes, not two). */
async function wholeListingBinary(snapshot: NetworkSnapshot, others: GetNetworkCapabilitiesResponse): Promise<Uint8Array> {
  const states = snapshot.usableOrchestrators();
  const entries = await mapInSlices(states, entryBinary);
  const whole = listingBinary(entries, toBinary(GetNetworkCapabilitiesResponseSchema, others));
  let at = 0;
  for (const [i, state] of states.entries()) {
    const length = (entries[i] as Uint8Array).length;
    at += 1 + varintLength(length); // the field's tag (one byte: field 1) and the entry's length
    entryBinaries.set(state, whole.subarray(at, at + length));
    at += length;
  }
  return whole;
}

/** The whole listing's JSON; from then on, each entry's JSON kept is a view into it. */
async function wholeListingJson(snapshot: NetworkSnapshot, others: GetNetworkCapabilitiesResponse): Promise<Uint8Array> {
  const states = snapshot.usableOrchestrators();
  const entries = await mapInSlices(states, entryJson);
  const whole = listingJson(entries, toJsonString(GetNetworkCapabilitiesResponseSchema, others));
  let at = JSON_LIST_START.length;
  for (const [i, state] of states.entries()) {
    const length = (entries[i] as Buffer).length;
    entryJsons.set(state, whole.subarray(at, at + length));
    at += length + COMMA.length;
  }
  return whole;
}

function varintLength(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

/** The answer's encoding as toBinary writes it: each entry as field 1, then the other fields in field order. */
function listingBinary(entries: readonly Uint8Array[], otherFields: Uint8Array): Uint8Array {
  const writer = new BinaryWriter();
  for (const bytes of entries) writer.tag(ORCHESTRATORS_FIELD, WireType.LengthDelimited).bytes(bytes);
  return writer.raw(otherFields).finish();
}

const JSON_LIST_START = Buffer.from('{"orchestrators":[');
const COMMA = Buffer.from(",");

/**
 * The answer's canonical JSON as toJsonString writes it, for Connect JSON callers: the entries (field 1, so first),
 * then the other fields.
 */
function listingJson(entries: readonly Buffer[], otherFieldsJson: string): Buffer {
  if (entries.length === 0) return Buffer.from(otherFieldsJson);
  const others = otherFieldsJson === "{}" ? "" : `,${otherFieldsJson.slice(1, -1)}`;
  const parts: Buffer[] = [JSON_LIST_START];
  for (const [i, entry] of entries.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(entry);
  }
  parts.push(Buffer.from(`]${others}}`));
  return Buffer.concat(parts);
}

/** GetNetworkCapabilitiesResponse.orchestrators, the first field. */
const ORCHESTRATORS_FIELD = GetNetworkCapabilitiesResponseSchema.field.orchestrators.number;
