// GetNetworkCapabilities: the current network snapshot as the public protobuf API.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  GetNetworkCapabilitiesResponseSchema,
  type GetNetworkCapabilitiesRequest,
  type GetNetworkCapabilitiesResponse,
  type OrchestratorEntry,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import { CAPABILITY_DISPLAY_NAMES } from "../network/capabilities.js";
import type { NetworkSnapshot, OrchestratorState } from "../network/snapshot.js";
import { SnapshotMemo } from "../network/snapshot-memo.js";
import { concatInSlices, joinBytes } from "../util/join-bytes.js";
import { mapInSlices } from "../util/slices.js";
import { similarNames } from "../util/similar-names.js";
import { decodedEntry, entryBinary, entryJson, keepBinaryEntryIn, keepJsonEntryIn } from "./listing-entries.js";
import { reusable } from "./reusable-answers.js";
import { validateCapabilityName } from "./validate-request.js";

function offersCapability(state: OrchestratorState, capability: string): boolean {
  return state.offers.some((offer) => offer.capability === capability);
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
    const binary = await wholeListings.getAsync(snapshot, "binary", () =>
      wholeListing(snapshot, entryBinary, (entries) => listingBinary(entries, toBinary(GetNetworkCapabilitiesResponseSchema, others)), keepBinaryEntryIn),
    );
    const json = () =>
      wholeListings.getAsync(snapshot, "json", () =>
        wholeListing(snapshot, entryJson, (entries) => listingJson(entries, toJsonString(GetNetworkCapabilitiesResponseSchema, others)), keepJsonEntryIn),
      );
    return listing(others, orchestrators, binary, json);
  }
  const entries = await mapInSlices(orchestrators, entryBinary);
  const { bytes: binary } = await listingBinary(entries, toBinary(GetNetworkCapabilitiesResponseSchema, others));
  const json = async () => (await listingJson(await mapInSlices(orchestrators, entryJson), toJsonString(GetNetworkCapabilitiesResponseSchema, others))).bytes;
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
      return (decoded ??= orchestrators.map(decodedEntry));
    },
  };
  return reusable(answer, { binary, json });
}

/** The listing of every usable orchestrator of each snapshot, by format: kept whole, once asked for. */
const wholeListings = new SnapshotMemo<Promise<Uint8Array>>();

/**
 * The whole listing in one format, joined from each usable orchestrator's entry; from then on, each entry kept is a
 * view into it (one copy of the bytes, not two).
 */
async function wholeListing<Entry extends Uint8Array>(
  snapshot: NetworkSnapshot,
  entryOf: (state: OrchestratorState) => Entry,
  join: (entries: Entry[]) => Promise<{ bytes: Uint8Array; starts: number[] }>,
  keepEntryIn: (state: OrchestratorState, view: Entry) => void,
): Promise<Uint8Array> {
  const states = snapshot.usableOrchestrators();
  const entries = await mapInSlices(states, entryOf);
  const { bytes, starts } = await join(entries);
  for (const [i, state] of states.entries()) {
    const start = starts[i] as number;
    // A Buffer's subarray is a Buffer: the view has the entry's type.
    keepEntryIn(state, bytes.subarray(start, start + (entries[i] as Entry).length) as Entry);
  }
  return bytes;
}

/**
 * The answer's encoding as toBinary writes it: each entry as field 1, then the other fields in field order; and where
 * each entry starts in it.
 */
async function listingBinary(entries: readonly Uint8Array[], otherFields: Uint8Array): Promise<{ bytes: Uint8Array; starts: number[] }> {
  const pieces: Uint8Array[] = [];
  const starts: number[] = [];
  let at = 0;
  for (const entry of entries) {
    const prefix = new BinaryWriter().tag(ORCHESTRATORS_FIELD, WireType.LengthDelimited).uint32(entry.length).finish();
    pieces.push(prefix, entry);
    starts.push((at += prefix.length));
    at += entry.length;
  }
  pieces.push(otherFields);
  return { bytes: await concatInSlices(pieces), starts };
}

const JSON_LIST_START = Buffer.from('{"orchestrators":[');
const COMMA = Buffer.from(",");

/**
 * The answer's canonical JSON as toJsonString writes it, for Connect JSON callers: the entries (field 1, so first),
 * then the other fields; and where each entry starts in it.
 */
async function listingJson(entries: readonly Buffer[], otherFieldsJson: string): Promise<{ bytes: Buffer; starts: number[] }> {
  if (entries.length === 0) return { bytes: Buffer.from(otherFieldsJson), starts: [] };
  const others = otherFieldsJson === "{}" ? "" : `,${otherFieldsJson.slice(1, -1)}`;
  return joinBytes(JSON_LIST_START, entries, COMMA, Buffer.from(`]${others}}`));
}

/** GetNetworkCapabilitiesResponse.orchestrators, the first field. */
const ORCHESTRATORS_FIELD = GetNetworkCapabilitiesResponseSchema.field.orchestrators.number;
