// What happened to one request sent to an orchestrator, and what that says about the orchestrator's health.

export type OutcomeClass =
  | "success"
  | "timeout"
  | "connect_error"
  | "connection_reset"
  | "http_5xx"
  | "gpu_oom"
  | "cold_start"
  | "schema_mismatch"
  | "payment_error"
  | "no_capacity"
  | "client_error";

export const OUTCOME_CLASSES: readonly OutcomeClass[] = Object.freeze([
  "success",
  "timeout",
  "connect_error",
  "connection_reset",
  "http_5xx",
  "gpu_oom",
  "cold_start",
  "schema_mismatch",
  "payment_error",
  "no_capacity",
  "client_error",
]);

/**
 * success: the orchestrator served the capability.
 * failure: the orchestrator (or its container) is at fault; counts towards ejection and against the success rate.
 * neutral: recorded and counted, but says nothing about whether the capability works on that orchestrator.
 */
export type OutcomeKind = "success" | "failure" | "neutral";

const KIND: Readonly<Record<OutcomeClass, OutcomeKind>> = {
  success: "success",
  // Served, only slowly: the model was loading. Punishing it would eject every orchestrator that scales to zero.
  cold_start: "success",
  timeout: "failure",
  connect_error: "failure",
  connection_reset: "failure",
  http_5xx: "failure",
  gpu_oom: "failure",
  // The container answered something other than the API it advertised: the capability is broken there.
  schema_mismatch: "failure",
  // Busy, not broken: the orchestrator refused cleanly and will serve again once a slot frees up.
  no_capacity: "neutral",
  // Expired ticket params, a stale sender nonce, an insufficient balance or a missing deposit are almost always the
  // gateway's payment state, not the orchestrator's health. Because that state is shared by every orchestrator, counting
  // it as a failure would eject healthy orchestrators one after another (up to the ejection budget) for the gateway's
  // own fault. The job executor fixes it instead: refresh the params, resync the balance, try another orchestrator.
  payment_error: "neutral",
  // A 4xx refusal of the request as sent (bad input, expired auth token): the caller's or the gateway's fault.
  client_error: "neutral",
};

const INDEX: ReadonlyMap<string, number> = new Map(OUTCOME_CLASSES.map((outcome, index) => [outcome, index]));

export function outcomeKind(outcome: OutcomeClass): OutcomeKind {
  return KIND[outcome];
}

/** Position of the class in OUTCOME_CLASSES, for counters kept in arrays; undefined for a string that is no class. */
export function outcomeIndex(outcome: string): number | undefined {
  return INDEX.get(outcome);
}

export function isOutcomeClass(value: string): value is OutcomeClass {
  return INDEX.has(value);
}
