// Reading only some top-level fields of an encoded OrchestratorInfo, without decoding the others.
import { BinaryReader } from "@bufbuild/protobuf/wire";

/** OrchestratorInfo field numbers (net.proto) that are selected, skipped or counted by number. */
export const INFO_FIELD = {
  transcoder: 1,
  ticketParams: 2,
  priceInfo: 3,
  address: 4,
  capabilities: 5,
  authToken: 6,
  hardware: 7,
  storage: 32,
  capabilitiesPrices: 33,
} as const;

/**
 * The fields discovery never reads: the auth token, the hardware (GPU maps per pipeline and model: about half of a
 * listing's bytes and 40% of the time to decode it) and storage. The index keeps the whole reply's bytes, so the API
 * still serves the hardware.
 */
export const UNREAD_BY_DISCOVERY: ReadonlySet<number> = new Set([INFO_FIELD.authToken, INFO_FIELD.hardware, INFO_FIELD.storage]);

/**
 * The records of the top-level fields `keep` accepts, in their order (so repeated and merged fields decode as in the
 * whole message), and how many records each skipped field had. Throws on bytes that are not a well-formed sequence of
 * records, as a full decode would.
 */
export function selectInfoFields(bytes: Uint8Array, keep: (field: number) => boolean): { selected: Uint8Array; skipped: Map<number, number> } {
  const reader = new BinaryReader(bytes);
  const kept: Uint8Array[] = [];
  const skipped = new Map<number, number>();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    reader.skip(wireType, field);
    if (keep(field)) kept.push(bytes.subarray(start, reader.pos));
    else skipped.set(field, (skipped.get(field) ?? 0) + 1);
  }
  return { selected: skipped.size === 0 ? bytes : concat(kept), skipped };
}

/**
 * The fields the network listings show, as the index keeps them. Left out: the auth token, storage, node list and
 * unknown fields (nothing shows them), and the ticket parameters, of which the listings show only the recipient. The
 * auth token and, on-chain, the ticket parameters are new in every reply: without them, a reply whose listing did not
 * change has the same bytes as the last one.
 */
export const LISTED_FIELDS: ReadonlySet<number> = new Set([
  INFO_FIELD.transcoder,
  INFO_FIELD.priceInfo,
  INFO_FIELD.address,
  INFO_FIELD.capabilities,
  INFO_FIELD.hardware,
  INFO_FIELD.capabilitiesPrices,
]);

/** The fields discovery reads (all but UNREAD_BY_DISCOVERY), and how many records each skipped field had. */
export function selectReadByDiscovery(bytes: Uint8Array): { selected: Uint8Array; skipped: Map<number, number> } {
  return selectInfoFields(bytes, (field) => !UNREAD_BY_DISCOVERY.has(field));
}

/** One Uint8Array (not a pooled Buffer: bytes fields decoded from it are views into it). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
