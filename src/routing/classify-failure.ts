// Turns what the job executor saw (an HTTP answer, a transport error, a body that broke the schema) into an OutcomeClass.
import type { OutcomeClass } from "./outcome.js";

export interface FailureEvidence {
  /** HTTP status of the orchestrator's answer, when one arrived. */
  status?: number;
  /** The answer's body text (its first few kilobytes are enough). */
  bodyText?: string;
  /** Node or undici error code (ECONNREFUSED, UND_ERR_SOCKET, …) or error name (AbortError, TimeoutError). */
  errorCode?: string;
  errorMessage?: string;
  /** false when a 2xx body did not match the schema the capability promises. */
  schemaValid?: boolean;
}

const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ABORT_ERR",
  "AbortError",
  "TimeoutError",
  "DEADLINE_EXCEEDED",
]);
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPROTO",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

const OOM_TEXT = /out of memory|outofmemoryerror|CUBLAS_STATUS_ALLOC_FAILED/i;
// go-livepeer's AI orchestrator answers 503 "insufficient capacity" when every slot of the (pipeline, model) is taken.
// BYOC's 503 "No capacity available for capability" is deliberately not matched: go-livepeer only sends it when the
// capability is not registered on that orchestrator, so it is a failure of that (orchestrator, capability).
const NO_CAPACITY_TEXT = /insufficient capacity/i;
const PAYMENT_TEXT =
  /ticketparams expired|invalid ticket|sendernonce|insufficient balance|insufficient sender reserve|could not get job price|payment/i;
// The orchestrator's 500 when its worker ran out of time: "… removing capability err=context deadline exceeded".
const TIMEOUT_TEXT = /deadline exceeded|timed out|timeout/i;
const RESET_TEXT = /socket hang up|other side closed|premature close|connection reset/i;
const CONNECT_TEXT = /connection refused|getaddrinfo|no route to host/i;

/**
 * The class of a failed exchange. Transport evidence wins over the status (a reset while the body streams is a reset).
 * A 2xx without an error or a schema problem is a "success"; a failure with no evidence at all is a connection_reset.
 * An abort counts as a timeout, so do not record aborts the gateway's own caller asked for.
 */
export function classifyFailure(evidence: FailureEvidence): OutcomeClass {
  const transport = transportClass(evidence.errorCode, evidence.errorMessage);
  if (transport !== undefined) return transport;
  const { status, bodyText = "" } = evidence;
  if (status === undefined) {
    if (evidence.schemaValid === false) return "schema_mismatch";
    return "connection_reset";
  }
  if (status >= 200 && status < 300) return evidence.schemaValid === false ? "schema_mismatch" : "success";
  if (status < 400) return "schema_mismatch"; // 1xx/3xx: not an answer the AI worker API gives
  if (PAYMENT_TEXT.test(bodyText) || status === 402) return "payment_error";
  if (status >= 500) {
    if (OOM_TEXT.test(bodyText)) return "gpu_oom";
    if (status === 503 && NO_CAPACITY_TEXT.test(bodyText)) return "no_capacity";
    if (status === 504 || TIMEOUT_TEXT.test(bodyText)) return "timeout";
    return "http_5xx";
  }
  if (status === 408) return "timeout";
  if (status === 429) return "no_capacity";
  return "client_error";
}

function transportClass(code: string | undefined, message: string | undefined): OutcomeClass | undefined {
  if (code !== undefined) {
    if (TIMEOUT_CODES.has(code)) return "timeout";
    if (CONNECT_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return "connect_error";
    if (RESET_CODES.has(code)) return "connection_reset";
    if (code.startsWith("HPE_")) return "schema_mismatch"; // the peer did not speak HTTP
  }
  if (message === undefined || message === "") return code === undefined ? undefined : "connection_reset";
  if (RESET_TEXT.test(message)) return "connection_reset";
  if (CONNECT_TEXT.test(message)) return "connect_error";
  if (TIMEOUT_TEXT.test(message)) return "timeout";
  return code === undefined ? undefined : "connection_reset";
}

const SPECIFIC_NAMES = new Set(["AbortError", "TimeoutError"]);

/**
 * The code and message of a thrown error, looking through `cause` (fetch wraps the socket error in "fetch failed").
 * Names only count when they say what happened (AbortError, TimeoutError), not the generic Error or TypeError.
 */
export function transportErrorOf(err: unknown): Pick<FailureEvidence, "errorCode" | "errorMessage"> {
  let errorCode: string | undefined;
  const messages: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const { code, name, message, cause } = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (errorCode === undefined && typeof code === "string") errorCode = code;
    if (errorCode === undefined && typeof name === "string" && SPECIFIC_NAMES.has(name)) errorCode = name;
    if (typeof message === "string" && message !== "") messages.push(message);
    current = cause;
  }
  const found: Pick<FailureEvidence, "errorCode" | "errorMessage"> = {};
  if (errorCode !== undefined) found.errorCode = errorCode;
  if (messages.length > 0) found.errorMessage = messages.join(": ");
  return found;
}
