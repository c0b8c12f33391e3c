// go-livepeer's BYOC wire formats as an orchestrator reads and writes them (byoc/types.go, byoc/utils.go,
// byoc/job_orchestrator.go): the strict base64 and hex of Go's standard library, Go's lenient JSON decoding into
// JobSender and JobRequest, the JobToken written by json.NewEncoder, and the signature checks of an on-chain node.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { getAddress } from "ethers/address";
import { hexlify, toUtf8Bytes } from "ethers/utils";
import { goInteger, goString, goStruct, type GoField } from "../api/gojson.js";
import { TicketParamsSchema } from "../gen/net/lp_rpc_pb.js";
import { verifyLivepeerSignature } from "../eth/signature.js";
import { decodeStdBase64 } from "../orchestrator/byoc-base64.js";
import { isJsonObject, JsonNumber, parseExactJson, type ExactJson } from "../util/exact-json.js";

/** Header names, as go-livepeer spells them. */
export { LIVEPEER_HEADER } from "../orchestrator/byoc-job-request.js";
export { CAPABILITY_HEADER, ETH_ADDRESS_HEADER } from "../orchestrator/byoc-token.js";
export { PAYMENT_HEADER } from "../payments/payment.js";
export const BALANCE_HEADER = "Livepeer-Balance";
export const SSE_BALANCE_HEADER = "Livepeer-Payment-Balance";
export const METADATA_HEADER = "X-Metadata";

/** Error texts of byoc/types.go and byoc/job_orchestrator.go, without the "\n" http.Error appends. */
export const BYOC_ERRORS = {
  methodNotAllowed: "Method not allowed",
  missingEthAddress: "Must have eth address and signature on address in Livepeer-Eth-Address header",
  invalidEthAddress: "Invalid eth address header ", // sic: trailing space
  missingCapability:
    "Job capabilities not provided, must provide comma separated capabilities in Livepeer-Capability header",
  noTimeout: "no timeout_seconds set with request, timeout_seconds is required",
  noCapacity: "No capacity available for capability",
  noJobCreds: "Could not verify job creds",
  notFound: "404 page not found",
} as const;

/** `job not able to be processed, removing capability err=<err>`: O's answer when W failed or ran out of time. */
export function workerFailureMessage(err: string): string {
  return `job not able to be processed, removing capability err=${err}`;
}

/** The error a worker that outlives timeout_seconds produces (capability kept, unlike a connection error). */
export const DEADLINE_EXCEEDED = "context deadline exceeded";

/** Go's hex.DecodeString: an even number of hex digits, either case; undefined on error. */
export function decodeGoHex(text: string): Uint8Array | undefined {
  return /^(?:[0-9a-fA-F]{2})*$/.test(text) ? Uint8Array.from(Buffer.from(text, "hex")) : undefined;
}

/**
 * The signature bytes O checks: `sig[2:]` when the string is longer than 130 characters (whatever those two
 * characters are), else the whole string, hex-decoded. "0x" alone (what an off-chain go-livepeer gateway sends)
 * is read as an empty signature, as the fix of livepeer/go-livepeer#3905 does; a go-livepeer orchestrator at the
 * reference commit fails to hex-decode it and refuses the request, which `rejectBarePrefix` reproduces. An empty
 * string passes both.
 */
export function signatureBytes(sig: string, rejectBarePrefix = false): Uint8Array | undefined {
  if (!rejectBarePrefix && sig === "0x") return new Uint8Array(0);
  return decodeGoHex(sig.length > 130 ? sig.slice(2) : sig);
}

/**
 * go-ethereum's HexToAddress: drop a 0x/0X prefix, pad an odd length with a leading 0, hex-decode up to the first
 * bad digit, keep the last 20 bytes (left-padded). Never fails; returns the EIP-55 form.
 */
export function goHexToAddress(text: string): string {
  let hex = /^0[xX]/.test(text) ? text.slice(2) : text;
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const valid = /^(?:[0-9a-fA-F]{2})*/.exec(hex)?.[0] ?? "";
  const bytes = Buffer.from(valid, "hex").subarray(-20);
  const padded = Buffer.concat([Buffer.alloc(20 - bytes.length), bytes]);
  return getAddress(hexlify(padded));
}

/** On-chain O's VerifySig(HexToAddress(addr), msg, sig): personal_sign over keccak256(utf8(msg)). Never throws. */
export function goVerifySig(addr: string, msg: string, sig: Uint8Array): boolean {
  try {
    verifyLivepeerSignature(goHexToAddress(addr), toUtf8Bytes(msg), sig);
    return true;
  } catch {
    return false;
  }
}

type FieldKind = "string" | "int";

/**
 * Go's json.Unmarshal into a struct of string and int fields: keys matched exactly, else case-insensitively,
 * unknown keys ignored, null leaving the zero value, the last of repeated keys winning. Undefined where Go errs
 * (invalid JSON, not an object, wrong type, an int with a fraction or exponent or beyond int64).
 */
function decodeGoStruct<K extends string>(
  text: string,
  fields: Readonly<Record<K, FieldKind>>,
): Record<K, string | bigint> | undefined {
  let value: ExactJson;
  try {
    value = parseExactJson(text);
  } catch {
    return undefined;
  }
  const names = Object.keys(fields) as K[];
  const result = Object.fromEntries(names.map((name) => [name, fields[name] === "int" ? 0n : ""])) as Record<
    K,
    string | bigint
  >;
  if (value === null) return result;
  if (!isJsonObject(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const name = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name === undefined || item === null) continue;
    const decoded = fields[name] === "int" ? goInt64(item) : typeof item === "string" ? item : undefined;
    if (decoded === undefined) return undefined;
    result[name] = decoded;
  }
  return result;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function goInt64(item: ExactJson): bigint | undefined {
  if (!(item instanceof JsonNumber) || !/^-?\d+$/.test(item.text)) return undefined;
  const n = BigInt(item.text);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** byoc.JobSender: what Livepeer-Eth-Address carries. */
export interface JobSender {
  readonly addr: string;
  readonly sig: string;
}

/** base64 → JSON JobSender, as verifyTokenCreds decodes it; undefined where O answers "Invalid eth address header". */
export function decodeJobSender(header: string): JobSender | undefined {
  const bytes = decodeStdBase64(header);
  if (!bytes) return undefined;
  const decoded = decodeGoStruct(bytes.toString("utf8"), { addr: "string", sig: "string" });
  return decoded && { addr: decoded.addr as string, sig: decoded.sig as string };
}

/** byoc.JobRequest as O decodes it from the `Livepeer` header. */
export interface ByocJobRequest {
  readonly id: string;
  /** A JSON string (the job details); signed together with `parameters`. */
  readonly request: string;
  /** A JSON string (job parameters); O does not parse it. */
  readonly parameters: string;
  readonly capability: string;
  readonly capabilityUrl: string;
  readonly sender: string;
  readonly sig: string;
  readonly timeoutSeconds: bigint;
  readonly orchSearchTimeout: bigint;
  readonly orchSearchRespTimeout: bigint;
  /** The decoded header text, as the gateway wrote it. */
  readonly json: string;
}

export type JobRequestDecoding =
  | { readonly ok: true; readonly job: ByocJobRequest }
  /** "creds": bad base64 or JSON (400 Could not verify job creds); "timeout": timeout_seconds is 0. */
  | { readonly ok: false; readonly failure: "creds" | "timeout" };

/** parseJobRequest: base64 → JSON → timeout_seconds ≠ 0. */
export function decodeJobRequest(header: string): JobRequestDecoding {
  const bytes = decodeStdBase64(header);
  if (!bytes) return { ok: false, failure: "creds" };
  const json = bytes.toString("utf8");
  const decoded = decodeGoStruct(json, {
    id: "string",
    request: "string",
    parameters: "string",
    capability: "string",
    capability_url: "string",
    sender: "string",
    sig: "string",
    timeout_seconds: "int",
    OrchSearchTimeout: "int",
    OrchSearchRespTimeout: "int",
  });
  if (!decoded) return { ok: false, failure: "creds" };
  if (decoded.timeout_seconds === 0n) return { ok: false, failure: "timeout" };
  return {
    ok: true,
    job: {
      id: decoded.id as string,
      request: decoded.request as string,
      parameters: decoded.parameters as string,
      capability: decoded.capability as string,
      capabilityUrl: decoded.capability_url as string,
      sender: decoded.sender as string,
      sig: decoded.sig as string,
      timeoutSeconds: decoded.timeout_seconds as bigint,
      orchSearchTimeout: decoded.OrchSearchTimeout as bigint,
      orchSearchRespTimeout: decoded.OrchSearchRespTimeout as bigint,
      json,
    },
  };
}

/**
 * setupOrchJob's decoding of `request` into JobRequestDetails{stream_id}: undefined when it succeeds, else the
 * error text for `Unable to unmarshal job request details err=<text>`.
 */
export function jobDetailsError(request: string): string | undefined {
  if (request.trim() === "") return "unexpected end of JSON input";
  return decodeGoStruct(request, { stream_id: "string" }) ? undefined : "invalid job request details JSON";
}

export type TicketParamsInit = MessageInitShape<typeof TicketParamsSchema>;

/** What GetJobToken answers, before encoding. */
export interface JobTokenFields {
  readonly sender: JobSender;
  /** Absent off-chain. */
  readonly ticketParams?: TicketParamsInit;
  /** Whole wei (O's balance for the sender and capability). */
  readonly balance: bigint;
  /** Whole wei per second. */
  readonly pricePerUnit: bigint;
  readonly pixelsPerUnit: bigint;
  readonly serviceAddr: string;
  readonly availableCapacity: bigint;
}

/** Go encodes []byte as standard base64; omitempty drops an empty slice. */
function goBytes(bytes: Uint8Array): string | undefined {
  return bytes.length === 0 ? undefined : goString(Buffer.from(bytes).toString("base64"));
}

function omitZero(value: bigint): string | undefined {
  return value === 0n ? undefined : goInteger(value);
}

/** net.TicketParams through encoding/json with the lp_rpc.pb.go tags (snake_case, omitempty). */
export function encodeGoTicketParams(init: TicketParamsInit): string {
  const params = create(TicketParamsSchema, init);
  const expiration = params.expirationParams;
  return goStruct([
    ["recipient", goBytes(params.recipient)],
    ["face_value", goBytes(params.faceValue)],
    ["win_prob", goBytes(params.winProb)],
    ["recipient_rand_hash", goBytes(params.recipientRandHash)],
    ["seed", goBytes(params.seed)],
    ["expiration_block", goBytes(params.expirationBlock)],
    [
      "expiration_params",
      expiration &&
        goStruct([
          ["creation_round", omitZero(expiration.creationRound)],
          ["creation_round_block_hash", goBytes(expiration.creationRoundBlockHash)],
        ]),
    ],
  ]);
}

/**
 * The JobToken body exactly as json.NewEncoder writes it: fields in declaration order (sender_address,
 * ticket_params, balance, price, service_addr, available_capacity, LastNonce), omitempty everywhere except the
 * untagged LastNonce, HTML-sensitive characters escaped, and a trailing newline.
 */
export function encodeJobToken(token: JobTokenFields): string {
  const fields: GoField[] = [
    ["sender_address", goStruct([["addr", goString(token.sender.addr)], ["sig", goString(token.sender.sig)]])],
    ["ticket_params", token.ticketParams && encodeGoTicketParams(token.ticketParams)],
    ["balance", omitZero(token.balance)],
    [
      "price",
      goStruct([
        ["pricePerUnit", omitZero(token.pricePerUnit)],
        ["pixelsPerUnit", omitZero(token.pixelsPerUnit)],
      ]),
    ],
    ["service_addr", token.serviceAddr === "" ? undefined : goString(token.serviceAddr)],
    ["available_capacity", omitZero(token.availableCapacity)],
    ["LastNonce", "0"],
  ];
  return `${goStruct(fields)}\n`;
}

/** Go's scanner.Scan over an SSE body: lines split on "\n", a trailing "\r" dropped, no empty final token. */
export function goScanLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

/** big.Rat.FloatString(3) of a whole-wei balance. */
export function balanceFloatString3(balance: bigint): string {
  return `${balance}.000`;
}

/** The line O inserts before `[DONE]` (json: `data: {"balance": <bal>}` followed by a blank line). */
export function sseBalanceLine(balance: bigint): string {
  return `data: {"balance": ${balanceFloatString3(balance)}}\n\n`;
}
