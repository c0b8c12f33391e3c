// One orchestrator's entry of the network listings (GetNetworkCapabilities, WatchNetworkCapabilities), and its
// encodings as the listings keep them.
//
// An entry is three parts: its head (fields 1–8) comes from the orchestrator's info alone (its messages copied as
// they arrived); its offers (field 9) are built from the info and price quotes; its observation (field 10) changes
// with every sweep. The head's and the offers' encodings are kept per IndexedInfo, which discovery keeps while the
// orchestrator lists the same: a new snapshot's entries then cost their observation, and their offers where those
// changed. Messages encode fields in number order, so an entry's encoding is its parts' one after the other.
import { create, fromBinary, toBinary, toJsonString, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
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
import { HardwareInformationSchema } from "../gen/net/lp_rpc_pb.js";
import type { IndexedInfo } from "../network/indexed-info.js";
import { INFO_FIELD } from "../network/info-fields.js";
import type { Offer } from "../network/offers.js";
import type { Observation, OrchestratorState } from "../network/snapshot.js";
import { wholeMilliseconds } from "./health-messages.js";

const ENTRY = OrchestratorEntrySchema.field;
/** The fields of each part, in the order the parts are written. */
const PARTS: readonly (readonly DescField[])[] = [
  [ENTRY.uri, ENTRY.orchUri, ENTRY.address, ENTRY.localAddress, ENTRY.capabilities, ENTRY.priceInfo, ENTRY.capabilitiesPrices, ENTRY.hardware],
  [ENTRY.offers],
  [ENTRY.observation],
];
const partFields = PARTS.flat();
if (partFields.length !== OrchestratorEntrySchema.fields.length || partFields.some((f, i) => i > 0 && f.number <= (partFields[i - 1] as DescField).number)) {
  throw new Error("listing-entries: OrchestratorEntry's fields changed; update its parts to match");
}

const PRICE_SOURCES = { exact: PriceSource.EXACT, listed: PriceSource.LISTED, unknown: PriceSource.UNKNOWN } as const;

export function offerMessage(offer: Offer): OfferMessage {
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

export function observationMessage(observation: Observation) {
  return create(ObservationSchema, {
    lastSeen: observation.lastSeen !== undefined ? timestampFromMs(observation.lastSeen) : undefined,
    discoveryLatency: observation.latencyMs !== undefined ? wholeMilliseconds(observation.latencyMs) : undefined,
    lastError: observation.lastError ?? "",
    lastErrorTime: observation.lastErrorTime !== undefined ? timestampFromMs(observation.lastErrorTime) : undefined,
    consecutiveFailures: observation.consecutiveFailures,
    reachable: observation.reachable,
  });
}

export function checksummed(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length === 20 ? getAddress(hexlify(bytes)) : "";
}

/** Two offer lists that encode the same. */
function sameOffers(a: readonly Offer[], b: readonly Offer[]): boolean {
  if (a === b) return true;
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i] as Offer;
      return (
        x.capability === y.capability &&
        x.capabilityId === y.capabilityId &&
        x.modelId === y.modelId &&
        x.warm === y.warm &&
        x.capacity === y.capacity &&
        x.capacityInUse === y.capacityInUse &&
        x.runnerVersion === y.runnerVersion &&
        x.priceSource === y.priceSource &&
        x.price?.num === y.price?.num &&
        x.price?.den === y.price?.den
      );
    })
  );
}

/**
 * What an entry takes from the info and from the offers built from it, encoded: kept per IndexedInfo, which
 * discovery keeps while the orchestrator lists the same. The offers part is kept with the offers it was encoded
 * for, and used again only for offers that encode the same (prices and capacity may change between sweeps).
 */
interface KeptParts {
  readonly uri: string;
  headBinary?: Uint8Array;
  /** The head's JSON members, without braces (never empty: the URI is one). */
  headJson?: Buffer;
  offers: readonly Offer[];
  offersBinary?: Uint8Array;
  /** The offers' JSON member, without braces; empty when there are none. */
  offersJson?: Buffer;
}

const keptParts = new WeakMap<IndexedInfo, KeptParts>();

function partsOf(state: OrchestratorState): KeptParts {
  const info = state.info;
  if (info === undefined) return { uri: state.uri, offers: state.offers };
  let parts = keptParts.get(info);
  if (parts === undefined || parts.uri !== state.uri) {
    keptParts.set(info, (parts = { uri: state.uri, offers: state.offers }));
  } else if (!sameOffers(parts.offers, state.offers)) {
    parts.offers = state.offers;
    parts.offersBinary = undefined;
    parts.offersJson = undefined;
  }
  return parts;
}

/** A message's JSON members, without the braces around them. */
function jsonMembers(entry: OrchestratorEntry): Buffer {
  return Buffer.from(toJsonString(OrchestratorEntrySchema, entry).slice(1, -1));
}

function headBinary(parts: KeptParts, state: OrchestratorState): Uint8Array {
  parts.headBinary ??= encodeHead(state.uri, state.info);
  return parts.headBinary;
}

/** Where the info's messages go in an entry: the same messages under the entry's field numbers, in the entry's order. */
const INFO_TO_ENTRY: ReadonlyArray<readonly [infoField: number, entryField: DescField]> = [
  [INFO_FIELD.capabilities, ENTRY.capabilities],
  [INFO_FIELD.priceInfo, ENTRY.priceInfo],
  [INFO_FIELD.capabilitiesPrices, ENTRY.capabilitiesPrices],
  [INFO_FIELD.hardware, ENTRY.hardware],
];

function decodes(schema: DescMessage): (bytes: Uint8Array) => boolean {
  return (bytes) => {
    try {
      fromBinary(schema, bytes);
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * Fields 1–8: the orchestrator's URI and what its info lists. Encoded from the info's bytes: its messages are copied
 * as they arrived, under the entry's field numbers, rather than decoded and encoded again (through protobuf-es,
 * encoding an entry's capabilities and hardware took ~350 µs of the ~480 an entry cost). The hardware, which discovery
 * does not decode, is checked here: when a record does not decode, the entry has no hardware, as when the info is
 * decoded whole (IndexedInfo.decode).
 */
function encodeHead(uri: string, info: IndexedInfo | undefined): Uint8Array {
  if (info === undefined) return toBinary(OrchestratorEntrySchema, create(OrchestratorEntrySchema, { uri }));
  const records = info.records();
  const messages = (field: number) => records.get(field) ?? [];
  const hardware = messages(INFO_FIELD.hardware);
  const hardwareDecodes = hardware.every(decodes(HardwareInformationSchema));
  const writer = new BinaryWriter();
  for (const [field, value] of [
    [ENTRY.uri, uri],
    [ENTRY.orchUri, info.transcoder],
    [ENTRY.address, checksummed(info.recipient)],
    [ENTRY.localAddress, checksummed(messages(INFO_FIELD.address).at(-1))], // the last one counts, as in a decode
  ] as const) {
    if (value !== "") writer.tag(field.number, WireType.LengthDelimited).string(value);
  }
  for (const [infoField, entryField] of INFO_TO_ENTRY) {
    if (infoField === INFO_FIELD.hardware && !hardwareDecodes) continue;
    for (const message of messages(infoField)) writer.tag(entryField.number, WireType.LengthDelimited).bytes(message);
  }
  return writer.finish();
}

function offersPart(state: OrchestratorState): OrchestratorEntry {
  return create(OrchestratorEntrySchema, { offers: state.offers.map(offerMessage) });
}

function observationPart(state: OrchestratorState): OrchestratorEntry {
  return create(OrchestratorEntrySchema, { observation: observationMessage(state.observation) });
}

/**
 * Each state's entry, encoded once (a state belongs to a snapshot, or to several when it is unusable, and never
 * changes). Only encodings are kept: a decoded entry is ~25 KB of small objects, and a listing of 10,000 kept
 * decoded held 240 MB.
 */
const entryBinaries = new WeakMap<OrchestratorState, Uint8Array>();
const entryJsons = new WeakMap<OrchestratorState, Buffer>();

export function entryBinary(state: OrchestratorState): Uint8Array {
  let bytes = entryBinaries.get(state);
  if (bytes === undefined) {
    const parts = partsOf(state);
    parts.offersBinary ??= toBinary(OrchestratorEntrySchema, offersPart(state));
    bytes = Buffer.concat([headBinary(parts, state), parts.offersBinary, toBinary(OrchestratorEntrySchema, observationPart(state))]);
    entryBinaries.set(state, bytes);
  }
  return bytes;
}

const OPEN = Buffer.from("{");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("}");

/** The entry's JSON as UTF-8: a listing's JSON is then its entries' bytes joined, not megabytes of text encoded. */
export function entryJson(state: OrchestratorState): Buffer {
  let bytes = entryJsons.get(state);
  if (bytes === undefined) {
    const parts = partsOf(state);
    // From the head's binary rather than the info: the info is decoded once for both.
    parts.headJson ??= jsonMembers(fromBinary(OrchestratorEntrySchema, headBinary(parts, state)));
    parts.offersJson ??= jsonMembers(offersPart(state));
    // The observation is always there (as a member, even when empty).
    const observation = jsonMembers(observationPart(state));
    const offers = parts.offersJson.length > 0 ? [COMMA, parts.offersJson] : [];
    bytes = Buffer.concat([OPEN, parts.headJson, ...offers, COMMA, observation, CLOSE]);
    entryJsons.set(state, bytes);
  }
  return bytes;
}

/** The entry as a message, decoded from its encoding. */
export function decodedEntry(state: OrchestratorState): OrchestratorEntry {
  return fromBinary(OrchestratorEntrySchema, entryBinary(state));
}

/** The kept parts `state`'s entry was built from, if they are still those (a later snapshot's offers may differ). */
function partsBehind(state: OrchestratorState): KeptParts | undefined {
  const parts = state.info === undefined ? undefined : keptParts.get(state.info);
  return parts !== undefined && parts.uri === state.uri && sameOffers(parts.offers, state.offers) ? parts : undefined;
}

/**
 * From now on, `state`'s entry (and the parts kept with its info) are views into `bytes`, the same bytes in a listing
 * kept whole: one copy of them, not two. `bytes` must be what entryBinary gave.
 */
export function keepBinaryEntryIn(state: OrchestratorState, bytes: Uint8Array): void {
  entryBinaries.set(state, bytes);
  const parts = partsBehind(state);
  if (parts?.headBinary === undefined || parts.offersBinary === undefined) return;
  const headEnd = parts.headBinary.length;
  parts.headBinary = bytes.subarray(0, headEnd);
  parts.offersBinary = bytes.subarray(headEnd, headEnd + parts.offersBinary.length);
}

/** As keepBinaryEntryIn, for the entry's JSON (what entryJson gave). */
export function keepJsonEntryIn(state: OrchestratorState, bytes: Buffer): void {
  entryJsons.set(state, bytes);
  const parts = partsBehind(state);
  if (parts?.headJson === undefined || parts.offersJson === undefined) return;
  const headEnd = OPEN.length + parts.headJson.length;
  parts.headJson = bytes.subarray(OPEN.length, headEnd);
  if (parts.offersJson.length > 0) parts.offersJson = bytes.subarray(headEnd + COMMA.length, headEnd + COMMA.length + parts.offersJson.length);
}
