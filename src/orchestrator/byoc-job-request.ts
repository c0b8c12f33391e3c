// The BYOC `Livepeer` header, both ways:
//   - client → gateway: base64(JSON JobRequest), validated as go-livepeer's gateway does (ref byoc-wire §2.1), with
//     an error that names the bad field instead of Go's "Unable to unmarshal job request err=…";
//   - gateway → orchestrator: the same JobRequest signed by the gateway, JSON-encoded byte for byte as Go's
//     json.Marshal writes it (ref §2.2).
//
// `request` and `parameters` are JSON *strings* that themselves hold JSON. The orchestrator verifies the signature
// over utf8(request + parameters) exactly as it decodes them from the header, so the gateway signs the decoded
// strings and re-embeds those same strings; nothing is re-serialised in between.

import { getAddress } from "ethers/address";
import { ZeroAddress } from "ethers/constants";
import { hexlify } from "ethers/utils";
import { goInteger, goString, goStruct } from "../api/gojson.js";
import type { GatewayIdentity } from "../eth/identity.js";
import { describeJson, type ExactJson, isJsonObject, JsonNumber, parseExactJson } from "../util/exact-json.js";
import { decodeStdBase64, encodeStdBase64 } from "./byoc-base64.js";
import { BoundedCache } from "../util/bounded-cache.js";

/** The header carrying the job request, client → gateway and gateway → orchestrator. */
export const LIVEPEER_HEADER = "Livepeer";

/**
 * Longest job a client may ask for. go-livepeer has no limit (any non-zero int); a day is far beyond any batch job
 * and keeps `timeout_seconds + 5 s` header timers within what setTimeout can hold.
 */
export const MAX_TIMEOUT_SECONDS = 24 * 60 * 60;

/** Bound on the header text before decoding (Node's own default limit for all headers together is 16 KiB). */
export const MAX_LIVEPEER_HEADER_LENGTH = 1024 * 1024;

/** Capability names travel in the `Livepeer-Capability` header of token requests, so they must fit in one. */
export const MAX_CAPABILITY_LENGTH = 256;

/** go-livepeer's gateway defaults (byoc/types.go); they are what it writes into OrchSearchTimeout fields, in ns. */
export const DEFAULT_ORCH_SEARCH_TIMEOUT_NS = 1_000_000_000n;
export const DEFAULT_ORCH_SEARCH_RESP_TIMEOUT_NS = 500_000_000n;

/**
 * The signature an off-chain gateway sends (in the job header and in Livepeer-Eth-Address): the empty string.
 * go-livepeer's own gateway writes "0x" + hex(empty) = "0x", which a go-livepeer orchestrator cannot hex-decode
 * (it strips "0x" only from strings longer than 130 characters) and answers 400, even off-chain where it would
 * accept any signature (livepeer/go-livepeer#3905). "" decodes to an empty signature on every orchestrator version,
 * and is what the proposed fix (livepeer/go-livepeer#3906) makes the gateway send.
 */
export const OFFCHAIN_SIG = "";

/** A client's `Livepeer` header that go-livepeer's gateway would refuse; `field` names the offending part. */
export class ByocRequestError extends Error {
  override readonly name = "ByocRequestError";
  constructor(
    /** "header", "base64", "json", or a JobRequest key such as "timeout_seconds" or "parameters.orchestrators.include". */
    readonly field: string,
    /** The problem without the "Livepeer header:" prefix, for callers that name the source themselves. */
    readonly detail: string,
  ) {
    super(`${LIVEPEER_HEADER} header: ${detail}`);
  }
}

/** `parameters.orchestrators`: orchestrator URLs the client wants used or avoided (compared as exact strings). */
export interface OrchestratorFilter {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** A validated client JobRequest. */
export interface ClientJobRequest {
  /** The client's job id, "" when absent; go-livepeer only logs it. */
  readonly id: string;
  /** The `request` JSON text exactly as decoded from the header (a JSON object). */
  readonly request: string;
  /** The `parameters` JSON text exactly as decoded from the header (a JSON object). */
  readonly parameters: string;
  readonly capability: string;
  /** 1 … MAX_TIMEOUT_SECONDS. */
  readonly timeoutSeconds: number;
  /** `request.stream_id`, when set. */
  readonly streamId: string | undefined;
  readonly orchestrators: OrchestratorFilter;
  /** Stream options from `parameters` (used by orchestrators for BYOC streams). */
  readonly enableVideoIngress: boolean;
  readonly enableVideoEgress: boolean;
  readonly enableDataOutput: boolean;
}

/**
 * Decodes and validates the client's `Livepeer` header. Throws ByocRequestError for every problem; `sender`, `sig`
 * and `capability_url` are ignored, as the gateway signs afresh and orchestrators overwrite `capability_url`.
 */
export function parseClientJobRequest(headerValue: string | undefined): ClientJobRequest {
  if (headerValue === undefined || headerValue === "") {
    throw new ByocRequestError(
      "header",
      'missing; send base64(JSON) of {"request":"{}","parameters":"{}","capability":"<name>","timeout_seconds":<n>}',
    );
  }
  if (headerValue.length > MAX_LIVEPEER_HEADER_LENGTH) {
    throw new ByocRequestError("header", `too long: ${headerValue.length} characters, at most ${MAX_LIVEPEER_HEADER_LENGTH}`);
  }
  const bytes = decodeStdBase64(headerValue);
  if (bytes === undefined) {
    throw new ByocRequestError(
      "base64",
      "not standard base64 with padding (alphabet A-Z a-z 0-9 + /, length a multiple of 4 with = padding; URL-safe or unpadded base64 is not accepted)",
    );
  }
  let decoded: ExactJson;
  try {
    decoded = parseExactJson(bytes.toString("utf8"));
  } catch (err) {
    throw new ByocRequestError("json", `the decoded header is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(decoded)) {
    throw new ByocRequestError("json", `the decoded header must be a JSON object (a JobRequest), got ${describeJson(decoded)}`);
  }
  return clientJobFromObject(decoded);
}

/** The same checks for a job that arrived as separate fields (the SubmitJob RPC) rather than as a header. */
export function clientJobFromFields(fields: {
  id: string;
  request: string;
  parameters: string;
  capability: string;
  timeoutSeconds: number;
}): ClientJobRequest {
  const object: Record<string, ExactJson> = Object.create(null) as Record<string, ExactJson>;
  object["id"] = fields.id;
  object["request"] = fields.request;
  object["parameters"] = fields.parameters;
  object["capability"] = fields.capability;
  object["timeout_seconds"] = new JsonNumber(String(fields.timeoutSeconds));
  return clientJobFromObject(object);
}

function clientJobFromObject(decoded: Record<string, ExactJson>): ClientJobRequest {
  const id = optionalString(decoded, "id");
  const capability = decoded["capability"];
  if (capability === undefined || capability === null || capability === "") {
    throw new ByocRequestError("capability", "capability is required: the name the worker registered with the orchestrator");
  }
  if (typeof capability !== "string") {
    throw new ByocRequestError("capability", `capability must be a string, got ${describeJson(capability)}`);
  }
  if (capability.length > MAX_CAPABILITY_LENGTH) {
    throw new ByocRequestError("capability", `capability is ${capability.length} characters long, at most ${MAX_CAPABILITY_LENGTH}`);
  }
  if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(capability)) {
    throw new ByocRequestError(
      "capability",
      `capability must be printable ASCII without leading or trailing spaces (it is sent in the Livepeer-Capability header), got ${JSON.stringify(capability)}`,
    );
  }

  const timeoutSeconds = parseTimeoutSeconds(decoded["timeout_seconds"]);
  const request = jsonStringField(decoded, "request");
  const parameters = jsonStringField(decoded, "parameters");

  const streamId = request.value["stream_id"];
  if (streamId !== undefined && streamId !== null && typeof streamId !== "string") {
    throw new ByocRequestError("request.stream_id", `request.stream_id must be a string, got ${describeValue(streamId)}`);
  }

  return {
    id: id ?? "",
    request: request.text,
    parameters: parameters.text,
    capability,
    timeoutSeconds,
    streamId: typeof streamId === "string" ? streamId : undefined,
    orchestrators: parseOrchestratorFilter(parameters.value["orchestrators"]),
    enableVideoIngress: optionalBool(parameters.value, "enable_video_ingress"),
    enableVideoEgress: optionalBool(parameters.value, "enable_video_egress"),
    enableDataOutput: optionalBool(parameters.value, "enable_data_output"),
  };
}

function optionalString(object: Record<string, ExactJson>, key: string): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ByocRequestError(key, `${key} must be a string, got ${describeJson(value)}`);
  return value;
}

function parseTimeoutSeconds(value: ExactJson | undefined): number {
  if (value === undefined || value === null) {
    throw new ByocRequestError("timeout_seconds", "timeout_seconds is required: a positive integer number of seconds");
  }
  // Go decodes it into an int: "30" (a string), 30.0 and 3e1 are all refused there too.
  if (!(value instanceof JsonNumber) || !/^-?\d+$/.test(value.text)) {
    throw new ByocRequestError("timeout_seconds", `timeout_seconds must be a positive integer, got ${describeJson(value)}`);
  }
  const seconds = BigInt(value.text);
  if (seconds <= 0n) {
    throw new ByocRequestError("timeout_seconds", `timeout_seconds must be a positive integer, got ${value.text}`);
  }
  if (seconds > BigInt(MAX_TIMEOUT_SECONDS)) {
    throw new ByocRequestError(
      "timeout_seconds",
      `timeout_seconds must be at most ${MAX_TIMEOUT_SECONDS} (24 h), got ${value.text}`,
    );
  }
  return Number(seconds);
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * `request` or `parameters`: a string holding a JSON object. Parsed with JSON.parse, which like Go's decoder has no
 * small depth limit and lets a repeated key's last value win; only the text is kept and forwarded.
 */
function jsonStringField(object: Record<string, ExactJson>, key: "request" | "parameters"): {
  text: string;
  value: Record<string, JsonValue>;
} {
  const text = object[key];
  if (text === undefined || text === null || text === "") {
    throw new ByocRequestError(key, `${key} is required: a string holding a JSON object ("{}" will do)`);
  }
  if (typeof text !== "string") {
    throw new ByocRequestError(
      key,
      `${key} must be a string holding JSON (e.g. "{}"), got ${describeJson(text)}; encode the object as a JSON string`,
    );
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new ByocRequestError(key, `${key} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ByocRequestError(key, `${key} must hold a JSON object, got ${describeValue(value)}`);
  }
  return { text, value };
}

function describeValue(value: JsonValue): string {
  if (value === null) return "null";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "number") return `number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  return Array.isArray(value) ? "an array" : "an object";
}

function optionalBool(parameters: Record<string, JsonValue>, key: string): boolean {
  const value = parameters[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") {
    throw new ByocRequestError(`parameters.${key}`, `parameters.${key} must be true or false, got ${describeValue(value)}`);
  }
  return value;
}

function parseOrchestratorFilter(value: JsonValue | undefined): OrchestratorFilter {
  if (value === undefined || value === null) return { include: [], exclude: [] };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ByocRequestError(
      "parameters.orchestrators",
      `parameters.orchestrators must be an object like {"include":[…],"exclude":[…]}, got ${describeValue(value)}`,
    );
  }
  return { include: urlList(value, "include"), exclude: urlList(value, "exclude") };
}

function urlList(filter: Record<string, JsonValue>, key: "include" | "exclude"): string[] {
  const field = `parameters.orchestrators.${key}`;
  const value = filter[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ByocRequestError(field, `${field} must be an array of URL strings, got ${describeValue(value)}`);
  return value.map((item, index) => {
    if (typeof item !== "string") {
      throw new ByocRequestError(field, `${field}[${index}] must be a URL string, got ${describeValue(item)}`);
    }
    return item;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway → orchestrator

/** What the orchestrator-bound header is made of; a ClientJobRequest is one. */
export interface OrchestratorJob {
  readonly id?: string;
  readonly request: string;
  readonly parameters: string;
  readonly capability: string;
  readonly timeoutSeconds: number;
}

/**
 * Who signs the job: a LivepeerSigner (`identity.signer`) fits. Without `sign` the gateway is off-chain and the
 * address must be the zero address: the job then carries an empty sig (OFFCHAIN_SIG), which only an off-chain
 * orchestrator accepts.
 */
export interface JobSigner {
  readonly address: string;
  sign?(msg: Uint8Array): Promise<Uint8Array>;
}

/** The signer a gateway identity provides: its key, or the off-chain zero address. */
export function jobSignerOf(identity: GatewayIdentity): JobSigner {
  return identity.signer ?? { address: identity.address };
}

/** `sender` and `sig` as they go into the header JSON. */
export interface JobCredentials {
  /** EIP-55 address, the zero address off-chain. */
  readonly sender: string;
  /** "0x" + hex of the 65-byte signature; OFFCHAIN_SIG ("") off-chain. */
  readonly sig: string;
}

/** Optional extras of the header JSON. */
export interface JobHeaderOptions {
  /** Written as Go writes the untagged time.Duration fields (integer ns); go-livepeer's defaults otherwise. */
  readonly orchSearchTimeoutNs?: bigint;
  readonly orchSearchRespTimeoutNs?: bigint;
}

/** What the orchestrator verifies the signature against: utf8(request + parameters). */
export function jobSignedMessage(job: Pick<OrchestratorJob, "request" | "parameters">): Uint8Array {
  // Buffer writes a lone surrogate as U+FFFD, which is also what the orchestrator decodes from goString's \ufffd.
  return Buffer.from(job.request + job.parameters, "utf8");
}

/**
 * Signs the job: go-livepeer's Sign (personal_sign over keccak256) of utf8(request + parameters). The result does
 * not depend on the orchestrator, so sign once per job and reuse it for every attempt.
 */
export async function signJobRequest(
  job: Pick<OrchestratorJob, "request" | "parameters">,
  signer: JobSigner,
): Promise<JobCredentials> {
  if (signer.sign === undefined) {
    // A lower-case comparison, not getAddress: this runs for every job, and checksumming costs a keccak256.
    if (signer.address.toLowerCase() !== ZeroAddress) {
      throw new RangeError(`an unsigned BYOC job must come from the zero address, not ${signer.address}; pass a signer`);
    }
    return { sender: ZeroAddress, sig: OFFCHAIN_SIG };
  }
  const signature = await signer.sign(jobSignedMessage(job));
  if (signature.length !== 65) throw new RangeError(`job signature must be 65 bytes, got ${signature.length}`);
  return { sender: getAddress(signer.address), sig: hexlify(signature) };
}

/**
 * The header JSON, byte for byte as go-livepeer's json.Marshal(JobRequest) writes it: declaration order, no
 * omitempty, HTML-escaped strings, capability_url left empty (orchestrators overwrite it) and the two untagged
 * duration fields as integer nanoseconds.
 */
export function orchestratorJobHeaderJson(
  job: OrchestratorJob,
  credentials: JobCredentials,
  options: JobHeaderOptions = {},
): string {
  return goStruct([
    ["id", goString(job.id ?? "")],
    ["request", goString(job.request)],
    ["parameters", goString(job.parameters)],
    ["capability", goString(job.capability)],
    ["capability_url", goString("")],
    ["sender", goString(credentials.sender)],
    ["sig", goString(credentials.sig)],
    ["timeout_seconds", goInteger(job.timeoutSeconds)],
    ["OrchSearchTimeout", goInteger(options.orchSearchTimeoutNs ?? DEFAULT_ORCH_SEARCH_TIMEOUT_NS)],
    ["OrchSearchRespTimeout", goInteger(options.orchSearchRespTimeoutNs ?? DEFAULT_ORCH_SEARCH_RESP_TIMEOUT_NS)],
  ]);
}

/** The `Livepeer` header value for orchestrators from already computed credentials (no signing, synchronous). */
export function orchestratorJobHeader(job: OrchestratorJob, credentials: JobCredentials, options?: JobHeaderOptions): string {
  return encodeStdBase64(orchestratorJobHeaderJson(job, credentials, options));
}

/**
 * Signs the job and returns the `Livepeer` header value for orchestrators. The value is the same for every
 * orchestrator: compute it once per job and send it on every attempt.
 *
 * Jobs with the same fields get the same header: the signature covers utf8(request + parameters) only, and is
 * deterministic (RFC 6979), so a recent job's header is reused rather than rebuilt and signed again. Each entry is
 * the header of a job this signer has actually been asked to sign; a signer without a signing key (off-chain) is
 * keyed by its address.
 */
export async function encodeOrchestratorJobHeader(
  job: OrchestratorJob,
  sender: JobSigner,
  options?: JobHeaderOptions,
): Promise<string> {
  const key = headerCacheKey(job, options);
  if (key === undefined) return orchestratorJobHeader(job, await signJobRequest(job, sender), options);
  const cache = headerCacheFor(sender);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const header = orchestratorJobHeader(job, await signJobRequest(job, sender), options);
  cache.set(key, header);
  return header;
}

/** Distinct recent jobs whose headers are kept per signer. */
export const HEADER_CACHE_ENTRIES = 256;
/** Jobs whose request and parameters are longer than this together are always encoded afresh. */
export const HEADER_CACHE_MAX_JOB_CHARS = 4 * 1024;

type HeaderCache = BoundedCache<string, string>;
const newHeaderCache = (): HeaderCache => new BoundedCache(HEADER_CACHE_ENTRIES);
const signedHeaders = new WeakMap<JobSigner, HeaderCache>();
const unsignedHeaders = new BoundedCache<string, HeaderCache>(16);

function headerCacheFor(signer: JobSigner): HeaderCache {
  // Off-chain: the header depends on the address only (jobSignerOf makes a new object per call).
  if (signer.sign === undefined) return unsignedHeaders.getOrCreate(signer.address, newHeaderCache);
  let cache = signedHeaders.get(signer);
  if (cache === undefined) signedHeaders.set(signer, (cache = newHeaderCache()));
  return cache;
}

/** Every input of the header, unambiguously; undefined for jobs too large to be worth keeping. */
function headerCacheKey(job: OrchestratorJob, options: JobHeaderOptions | undefined): string | undefined {
  if (job.request.length + job.parameters.length > HEADER_CACHE_MAX_JOB_CHARS) return undefined;
  const id = job.id ?? "";
  const search = options === undefined ? "" : `${options.orchSearchTimeoutNs ?? ""}/${options.orchSearchRespTimeoutNs ?? ""}`;
  // Lengths first, so that no choice of field contents can make two different jobs share a key.
  return `${id.length}:${job.request.length}:${job.parameters.length}:${job.capability.length}:${job.timeoutSeconds}:${search}:${id}${job.request}${job.parameters}${job.capability}`;
}
