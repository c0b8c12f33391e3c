// The class of an orchestrator's BYOC answer or failure, on top of the general classifier: the statuses and texts
// go-livepeer's BYOC orchestrator uses (ref byoc-wire §2.3, §6.2) that the general rules would take for the client's.
import { classifyFailure, transportErrorOf } from "../routing/classify-failure.js";
import type { OutcomeClass } from "../routing/outcome.js";

// A 400 about the gateway's credentials or the orchestrator's price lookup is between gateway and orchestrator.
const CREDENTIALS_TEXT = /could not verify job creds|could not get job price/i;

export function classifyAnswer(status: number, bodyText: string): OutcomeClass {
  // FastAPI workers answer 422 when the request does not fit their schema: with a given request that is a worker
  // of another version on that orchestrator, so the job moves on (and if every worker says so, the client hears it).
  if (status === 422) return "schema_mismatch";
  if (status >= 400 && status < 500 && CREDENTIALS_TEXT.test(bodyText)) return "payment_error";
  return classifyFailure({ status, bodyText });
}

/** Transport kinds of the wire layer, when it gives one. */
const KIND_CLASSES: Readonly<Record<string, OutcomeClass>> = {
  connect: "connect_error",
  tls: "connect_error",
  reset: "connection_reset",
  timeout: "timeout",
  protocol: "schema_mismatch",
};

export function classifyError(err: unknown): OutcomeClass {
  if (typeof err === "object" && err !== null) {
    const { kind, status, body } = err as { kind?: unknown; status?: unknown; body?: unknown };
    if (typeof kind === "string" && KIND_CLASSES[kind] !== undefined) return KIND_CLASSES[kind];
    // An HTTP error from the token request: the orchestrator answered, with a status.
    if (typeof status === "number") return classifyAnswer(status, typeof body === "string" ? body : "");
  }
  return classifyFailure(transportErrorOf(err));
}
