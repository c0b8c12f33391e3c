// BYOC job tokens: the `Livepeer-Eth-Address` header a gateway sends to `GET /process/token`, and the JobToken JSON
// an orchestrator answers with (ref byoc-wire §1.6).
//
// The token is go-livepeer's JobToken written by encoding/json: every field is `omitempty`, so zero values are simply
// missing; ticket params use the snake_case tags of lp_rpc.pb.go with []byte as standard base64; the price uses
// PriceInfo's camelCase tags; int64 values are plain JSON numbers and are read from their text, so nothing above 2^53
// loses digits.

import { create } from "@bufbuild/protobuf";
import { getAddress } from "ethers/address";
import { hexlify, toBigInt } from "ethers/utils";
import { goString, goStruct } from "../api/gojson.js";
import type { GatewayIdentity } from "../eth/identity.js";
import { OFFCHAIN_SIG } from "./byoc-job-request.js";
import {
  type PriceInfo,
  PriceInfoSchema,
  type TicketParams,
  TicketParamsSchema,
  TicketExpirationParamsSchema,
} from "../gen/net/lp_rpc_pb.js";
import { type WeiPerUnit, weiPerUnit } from "../network/price.js";
import { describeJson, type ExactJson, type ExactJsonObject, isJsonObject, JsonNumber, parseExactJson } from "../util/exact-json.js";
import { decodeStdBase64, encodeStdBase64 } from "./byoc-base64.js";

export const ETH_ADDRESS_HEADER = "Livepeer-Eth-Address";
export const CAPABILITY_HEADER = "Livepeer-Capability";

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT32_MAX = (1n << 32n) - 1n;

// ---------------------------------------------------------------------------------------------------------------
// Livepeer-Eth-Address

const ethAddressHeaders = new WeakMap<object, string>();

/**
 * base64 of {"addr": EIP-55 address, "sig": "0x" + hex(signature)}: the signature is the identity's
 * OrchestratorRequest signature (Sign over the UTF-8 EIP-55 address string), so both checks accept it. Off-chain it
 * is {"addr":"0x000…000","sig":""}: go-livepeer's off-chain gateway sends "sig":"0x", which go-livepeer
 * orchestrators refuse before reaching their off-chain "accept anything" check (see OFFCHAIN_SIG). Computed once per
 * identity.
 */
export function ethAddressHeader(identity: Pick<GatewayIdentity, "address" | "orchestratorRequestSig">): string {
  const cached = ethAddressHeaders.get(identity);
  if (cached !== undefined) return cached;
  const json = goStruct([
    ["addr", goString(getAddress(identity.address))],
    ["sig", goString(identity.orchestratorRequestSig.length === 0 ? OFFCHAIN_SIG : hexlify(identity.orchestratorRequestSig))],
  ]);
  const header = encodeStdBase64(json);
  ethAddressHeaders.set(identity, header);
  return header;
}

// ---------------------------------------------------------------------------------------------------------------
// JobToken

/** A token the gateway cannot use; `orchestrator` is where it came from and `field` the offending key. */
export class ByocTokenError extends Error {
  override readonly name = "ByocTokenError";
  constructor(
    readonly orchestrator: string,
    /** e.g. "json", "ticket_params.face_value", "price.pixelsPerUnit", "service_addr". */
    readonly field: string,
    message: string,
  ) {
    super(`job token from ${orchestrator}: ${message}`);
  }
}

/** Ticket params as received, plus their numbers decoded. */
export interface ByocTicketParams {
  /** The protobuf message, bytes unchanged: copy it into net.Payment.ticket_params as is. */
  readonly message: TicketParams;
  /** The recipient as an EIP-55 address. */
  readonly recipient: string;
  /** Unsigned big-endian integers, as go-livepeer's big.Int.SetBytes reads them. */
  readonly faceValue: bigint;
  readonly winProb: bigint;
  readonly seed: bigint;
  readonly expirationBlock: bigint;
  /** expiration_params.creation_round, 0 when absent. */
  readonly creationRound: bigint;
}

export interface JobSender {
  readonly addr: string;
  readonly sig: string;
}

export interface JobToken {
  /** The orchestrator's echo of our Livepeer-Eth-Address, when present. */
  readonly senderAddress: JobSender | undefined;
  /** Absent when the orchestrator is off-chain: the work is free and no payment is sent. */
  readonly ticketParams: ByocTicketParams | undefined;
  /** The orchestrator's balance for (our address, capability) in wei; an int64, 0 when absent. */
  readonly balance: bigint;
  /** `price` as sent (for net.Payment.expected_price), undefined when absent. */
  readonly priceInfo: PriceInfo | undefined;
  /** Wei per unit (per second for BYOC) as an exact ratio; 0 when the price is absent or zero. */
  readonly price: WeiPerUnit;
  /** `service_addr` as sent: where jobs go (not necessarily the URL the token was requested from). */
  readonly serviceAddr: string;
  /** Free slots for the capability; 0 when absent. */
  readonly availableCapacity: number;
}

/** Parses a /process/token answer. `from` names the orchestrator in errors. Throws ByocTokenError. */
export function parseJobToken(bodyText: string, from: string): JobToken {
  const fail = (field: string, message: string): never => {
    throw new ByocTokenError(from, field, message);
  };
  let root: ExactJson;
  try {
    root = parseExactJson(bodyText);
  } catch (err) {
    return fail("json", `not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(root)) return fail("json", `must be a JSON object, got ${describeJson(root)}`);

  const reader = new FieldReader(fail);
  const senderObject = reader.object(root, "sender_address", "sender_address");
  const senderAddress =
    senderObject === undefined
      ? undefined
      : {
          addr: reader.string(senderObject, "addr", "sender_address.addr") ?? "",
          sig: reader.string(senderObject, "sig", "sender_address.sig") ?? "",
        };

  const ticketObject = reader.object(root, "ticket_params", "ticket_params");
  const ticketParams = ticketObject === undefined ? undefined : parseTicketParams(reader, ticketObject);

  const balance = reader.integer(root, "balance", "balance", INT64_MIN, INT64_MAX) ?? 0n;

  const priceObject = reader.object(root, "price", "price");
  let priceInfo: PriceInfo | undefined;
  let price = weiPerUnit(0n, 1n);
  if (priceObject !== undefined) {
    const pricePerUnit = reader.integer(priceObject, "pricePerUnit", "price.pricePerUnit", INT64_MIN, INT64_MAX) ?? 0n;
    const pixelsPerUnit = reader.integer(priceObject, "pixelsPerUnit", "price.pixelsPerUnit", INT64_MIN, INT64_MAX) ?? 0n;
    const capability = reader.integer(priceObject, "capability", "price.capability", 0n, UINT32_MAX) ?? 0n;
    const constraint = reader.string(priceObject, "constraint", "price.constraint") ?? "";
    if (pricePerUnit < 0n) fail("price.pricePerUnit", `price.pricePerUnit must not be negative, got ${pricePerUnit}`);
    // An empty price ({} or {"pixelsPerUnit":1}) is free; a positive one needs a positive denominator.
    if (pricePerUnit > 0n && pixelsPerUnit <= 0n) {
      fail("price.pixelsPerUnit", `price.pixelsPerUnit must be positive, got ${pixelsPerUnit}`);
    }
    if (pixelsPerUnit < 0n) fail("price.pixelsPerUnit", `price.pixelsPerUnit must not be negative, got ${pixelsPerUnit}`);
    priceInfo = create(PriceInfoSchema, { pricePerUnit, pixelsPerUnit, capability: Number(capability), constraint });
    if (pricePerUnit > 0n) price = weiPerUnit(pricePerUnit, pixelsPerUnit);
  }

  const serviceAddr = reader.string(root, "service_addr", "service_addr");
  if (serviceAddr === undefined || serviceAddr === "") {
    return fail("service_addr", "service_addr is missing: the token does not say where to send jobs");
  }
  checkServiceAddr(serviceAddr, fail);

  const capacity = reader.integer(root, "available_capacity", "available_capacity", INT64_MIN, INT64_MAX) ?? 0n;
  if (capacity < 0n) fail("available_capacity", `available_capacity must not be negative, got ${capacity}`);
  const availableCapacity = Number(capacity > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : capacity);

  return { senderAddress, ticketParams, balance, priceInfo, price, serviceAddr, availableCapacity };
}

function checkServiceAddr(text: string, fail: (field: string, message: string) => never): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail("service_addr", `service_addr is not a URL: ${JSON.stringify(clip(text))}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    fail("service_addr", `service_addr must be an http(s) URL, got ${JSON.stringify(clip(text))}`);
  }
  if (url.hostname === "") fail("service_addr", `service_addr has no host: ${JSON.stringify(clip(text))}`);
  if (url.username !== "" || url.password !== "") fail("service_addr", "service_addr must not carry credentials");
  if (url.search !== "" || url.hash !== "") {
    fail("service_addr", `service_addr must not have a query or fragment: ${JSON.stringify(clip(text))}`);
  }
}

/** Sizes go-livepeer's ticket code relies on: addresses are 20 bytes, hashes 32, integers at most uint256. */
function parseTicketParams(reader: FieldReader, object: ExactJsonObject): ByocTicketParams {
  const bytes = (key: string, sizes: { exactly?: number[]; atMost?: number }): Uint8Array => {
    const field = `ticket_params.${key}`;
    const value = reader.bytes(object, key, field) ?? new Uint8Array(0);
    if (sizes.exactly !== undefined && !sizes.exactly.includes(value.length)) {
      reader.fail(field, `${field} must be ${sizes.exactly.filter((n) => n > 0).join(" or ")} bytes, got ${value.length}`);
    }
    if (sizes.atMost !== undefined && value.length > sizes.atMost) {
      reader.fail(field, `${field} must be at most ${sizes.atMost} bytes (a uint256), got ${value.length}`);
    }
    return value;
  };
  const recipient = bytes("recipient", { exactly: [20] });
  const faceValue = bytes("face_value", { atMost: 32 });
  const winProb = bytes("win_prob", { atMost: 32 });
  const recipientRandHash = bytes("recipient_rand_hash", { exactly: [32] });
  const seed = bytes("seed", { atMost: 32 });
  const expirationBlock = bytes("expiration_block", { atMost: 32 });

  const expiration = reader.object(object, "expiration_params", "ticket_params.expiration_params");
  let creationRound = 0n;
  let creationRoundBlockHash: Uint8Array = new Uint8Array(0);
  if (expiration !== undefined) {
    creationRound =
      reader.integer(expiration, "creation_round", "ticket_params.expiration_params.creation_round", 0n, INT64_MAX, true) ?? 0n;
    const field = "ticket_params.expiration_params.creation_round_block_hash";
    creationRoundBlockHash = reader.bytes(expiration, "creation_round_block_hash", field) ?? new Uint8Array(0);
    if (creationRoundBlockHash.length !== 0 && creationRoundBlockHash.length !== 32) {
      reader.fail(field, `${field} must be 32 bytes, got ${creationRoundBlockHash.length}`);
    }
  }

  const message = create(TicketParamsSchema, {
    recipient,
    faceValue,
    winProb,
    recipientRandHash,
    seed,
    expirationBlock,
    ...(expiration === undefined
      ? {}
      : { expirationParams: create(TicketExpirationParamsSchema, { creationRound, creationRoundBlockHash }) }),
  });
  const unsigned = (value: Uint8Array): bigint => (value.length === 0 ? 0n : toBigInt(value));
  return {
    message,
    recipient: getAddress(hexlify(recipient)),
    faceValue: unsigned(faceValue),
    winProb: unsigned(winProb),
    seed: unsigned(seed),
    expirationBlock: unsigned(expirationBlock),
    creationRound,
  };
}

/** Typed access to optional JSON fields; null counts as absent, as it does for Go's decoder. */
class FieldReader {
  constructor(readonly fail: (field: string, message: string) => never) {}

  object(parent: ExactJsonObject, key: string, field: string): ExactJsonObject | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) return this.fail(field, `${field} must be an object, got ${describeJson(value)}`);
    return value;
  }

  string(parent: ExactJsonObject, key: string, field: string): string | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") return this.fail(field, `${field} must be a string, got ${describeJson(value)}`);
    return value;
  }

  /** An integer within [min, max]; with `allowString`, also a decimal string (protojson's form of an int64). */
  integer(parent: ExactJsonObject, key: string, field: string, min: bigint, max: bigint, allowString = false): bigint | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    const text = value instanceof JsonNumber ? value.text : allowString && typeof value === "string" ? value : undefined;
    if (text === undefined || !/^-?\d+$/.test(text)) {
      return this.fail(field, `${field} must be an integer, got ${describeJson(value)}`);
    }
    const integer = BigInt(text);
    if (integer < min || integer > max) return this.fail(field, `${field} is out of range [${min}, ${max}]: ${clip(text)}`);
    return integer;
  }

  bytes(parent: ExactJsonObject, key: string, field: string): Uint8Array | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") return this.fail(field, `${field} must be a base64 string, got ${describeJson(value)}`);
    const decoded = decodeStdBase64(value);
    if (decoded === undefined) return this.fail(field, `${field} is not standard base64 with padding`);
    return new Uint8Array(decoded);
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
