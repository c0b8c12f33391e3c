// One orchestrator's entry of the network listings (GetNetworkCapabilities, WatchNetworkCapabilities), and its
// encodings as the listings keep them.
//
// An entry is two parts: its head (fields 1–8) comes from the orchestrator's info alone, and costs most (decoding the
// info, encoding its capabilities and hardware); its tail (offers and observation) changes with every sweep. The
// head's encodings are kept per IndexedInfo, which discovery keeps while the orchestrator lists the same: a new
// snapshot's entries then cost their tails only. Messages encode fields in number order, so an entry's encoding is
// its head's followed by its tail's.
import { create, fromBinary, toBinary, toJsonString, type DescField } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
import {
  ObservationSchema,
  OfferSchema,
  OrchestratorEntrySchema,
  PriceSource,
  type Offer as OfferMessage,
  type OrchestratorEntry,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { IndexedInfo } from "../network/indexed-info.js";
import type { Offer } from "../network/offers.js";
import type { Observation, OrchestratorState } from "../network/snapshot.js";

const ENTRY = OrchestratorEntrySchema.field;
const HEAD_FIELDS: readonly DescField[] = [ENTRY.uri, ENTRY.orchUri, ENTRY.address, ENTRY.localAddress, ENTRY.capabilities, ENTRY.priceInfo, ENTRY.capabilitiesPrices, ENTRY.hardware];
const TAIL_FIELDS: readonly DescField[] = [ENTRY.offers, ENTRY.observation];
if (
  HEAD_FIELDS.length + TAIL_FIELDS.length !== OrchestratorEntrySchema.fields.length ||
  Math.max(...HEAD_FIELDS.map((f) => f.number)) > Math.min(...TAIL_FIELDS.map((f) => f.number))
) {
  throw new Error("listing-entries: OrchestratorEntry's fields changed; update its head and tail to match");
}

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

/** Fields 1–8: the orchestrator's URI and what its info lists. */
function entryHead(uri: string, indexed: IndexedInfo | undefined): OrchestratorEntry {
  const info = indexed?.decode();
  return create(OrchestratorEntrySchema, {
    uri,
    orchUri: info?.transcoder ?? "",
    address: checksummed(info?.ticketParams?.recipient),
    localAddress: checksummed(info?.address),
    capabilities: info?.capabilities,
    priceInfo: info?.priceInfo,
    capabilitiesPrices: info?.capabilitiesPrices ?? [],
    hardware: info?.hardware ?? [],
  });
}

/** Fields 9–10: the offers and what the gateway observed. */
function entryTail(state: OrchestratorState): OrchestratorEntry {
  return create(OrchestratorEntrySchema, { offers: state.offers.map(offerMessage), observation: observationMessage(state.observation) });
}

export function orchestratorEntry(state: OrchestratorState): OrchestratorEntry {
  const entry = entryHead(state.uri, state.info);
  entry.offers = state.offers.map(offerMessage);
  entry.observation = observationMessage(state.observation);
  return entry;
}

/** An entry's head, encoded: its binary, and its JSON without the closing brace (the tail's members follow). */
interface EncodedHead {
  readonly uri: string;
  binary?: Uint8Array;
  openJson?: Buffer;
}

/** Heads by the info they come from; the URI is checked too (an info belongs to one orchestrator). */
const heads = new WeakMap<IndexedInfo, EncodedHead>();

function headOf(state: OrchestratorState): EncodedHead {
  const info = state.info;
  if (info === undefined) return { uri: state.uri };
  let head = heads.get(info);
  if (head === undefined || head.uri !== state.uri) heads.set(info, (head = { uri: state.uri }));
  return head;
}

/**
 * Each state's entry, encoded once (a state belongs to a snapshot, or to several when it is unusable, and never
 * changes). Only encodings are kept: a decoded entry is ~25 KB of small objects, and a listing of 10,000 kept
 * decoded held 240 MB.
 */
const entryBinaries = new WeakMap<OrchestratorState, Uint8Array>();
const entryJsons = new WeakMap<OrchestratorState, Buffer>();

function headBinary(head: EncodedHead, state: OrchestratorState): Uint8Array {
  head.binary ??= toBinary(OrchestratorEntrySchema, entryHead(state.uri, state.info));
  return head.binary;
}

export function entryBinary(state: OrchestratorState): Uint8Array {
  let bytes = entryBinaries.get(state);
  if (bytes === undefined) {
    bytes = Buffer.concat([headBinary(headOf(state), state), toBinary(OrchestratorEntrySchema, entryTail(state))]);
    entryBinaries.set(state, bytes);
  }
  return bytes;
}

const JSON_MEMBERS_SEPARATOR = Buffer.from(",");

/** The entry's JSON as UTF-8: a listing's JSON is then its entries' bytes joined, not megabytes of text encoded. */
export function entryJson(state: OrchestratorState): Buffer {
  let bytes = entryJsons.get(state);
  if (bytes === undefined) {
    const head = headOf(state);
    // From the head's binary rather than the info: the info is decoded once for both. The head is never empty (it
    // has the URI), the tail never either (it has the observation).
    head.openJson ??= Buffer.from(toJsonString(OrchestratorEntrySchema, fromBinary(OrchestratorEntrySchema, headBinary(head, state))).slice(0, -1));
    const tail = Buffer.from(toJsonString(OrchestratorEntrySchema, entryTail(state)));
    bytes = Buffer.concat([head.openJson, JSON_MEMBERS_SEPARATOR, tail.subarray(1)]);
    entryJsons.set(state, bytes);
  }
  return bytes;
}

/** The entry as a message, decoded from its encoding. */
export function decodedEntry(state: OrchestratorState): OrchestratorEntry {
  return fromBinary(OrchestratorEntrySchema, entryBinary(state));
}

/**
 * From now on, `state`'s entry (and its head) are views into `bytes`, the same bytes in a listing kept whole: one
 * copy of them, not two. `bytes` must be what entryBinary gave.
 */
export function keepBinaryEntryIn(state: OrchestratorState, bytes: Uint8Array): void {
  entryBinaries.set(state, bytes);
  const head = headOf(state);
  if (head.binary !== undefined) head.binary = bytes.subarray(0, head.binary.length);
}

/** As keepBinaryEntryIn, for the entry's JSON (what entryJson gave). */
export function keepJsonEntryIn(state: OrchestratorState, bytes: Buffer): void {
  entryJsons.set(state, bytes);
  const head = headOf(state);
  if (head.openJson !== undefined) head.openJson = bytes.subarray(0, head.openJson.length);
}
