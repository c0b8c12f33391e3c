// Faults a simulated orchestrator's BYOC side can be told to show, per capability or for all of them ("*").
//
// Where each one acts, following go-livepeer's split between O and its worker W:
//  - in W, before W's response headers, so timeout_seconds applies (O answers 500 `... err=context deadline
//    exceeded` when the delay outlasts it): latency, cold-start;
//  - in W's answer, which O relays as W's status with W's body + "\n" as text/plain: error-500, gpu-oom,
//    schema-mismatch;
//  - in O itself: crash (the connection is dropped after the request was read, as when a Go handler panics),
//    hang (no answer until the client goes away or the orchestrator closes), down (for one capability: answered
//    as unregistered, 503 `No capacity available for capability` and no available_capacity in its token; for "*":
//    the BYOC port refuses connections until the fault is cleared).
// Token requests (GET /process/token) are answered by O without W, so only `down` affects them.
import type { WorkerRequest, WorkerResponse } from "./byoc-worker.js";

/** The capability key meaning "every capability of this orchestrator". */
export const ALL_CAPABILITIES = "*";

export const BYOC_FAULT_MODES = [
  "none",
  "latency",
  "cold-start",
  "error-500",
  "gpu-oom",
  "crash",
  "schema-mismatch",
  "hang",
  "down",
] as const;

export type ByocFaultMode = (typeof BYOC_FAULT_MODES)[number];

export type ByocFault =
  /** Behave normally. Setting it clears the fault. */
  | { readonly mode: "none" }
  /** W answers `ms` milliseconds late. */
  | { readonly mode: "latency"; readonly ms: number }
  /**
   * The first request after the fault is set, or after `idleMs` without requests (default 60 s), waits `ms` for
   * the container to warm up; requests arriving meanwhile wait for the same warm-up; later ones are normal.
   */
  | { readonly mode: "cold-start"; readonly ms: number; readonly idleMs?: number }
  /** W answers 500 with `body` (default uvicorn's "Internal Server Error"). */
  | { readonly mode: "error-500"; readonly body?: string }
  /** W answers 500 with ai-runner's JSON error carrying a CUDA out-of-memory message (or `message`). */
  | { readonly mode: "gpu-oom"; readonly message?: string }
  /** The connection is dropped once the request has been read: no status, no body. */
  | { readonly mode: "crash" }
  /** W answers 422 with a FastAPI validation error: the request lacks `field` (default "prompt"). */
  | { readonly mode: "schema-mismatch"; readonly field?: string }
  /** No answer until the client goes away or the orchestrator closes. */
  | { readonly mode: "hang" }
  /** One capability: unregistered. "*": the BYOC port refuses connections. */
  | { readonly mode: "down" };

export const NO_FAULT: ByocFault = { mode: "none" };

/** Longest delay a fault may inject: 10 minutes. */
export const MAX_FAULT_DELAY_MS = 600_000;
export const DEFAULT_COLD_START_IDLE_MS = 60_000;
const MAX_TEXT_LENGTH = 64 * 1024;

/** What PyTorch raises when a CUDA allocation fails, as ai-runner relays it. */
export const DEFAULT_GPU_OOM_MESSAGE =
  "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.64 GiB of which 1.19 GiB is " +
  "free. Process 4127 has 22.44 GiB memory in use. Of the allocated memory 21.83 GiB is allocated by PyTorch, and " +
  "187.52 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting " +
  "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.";

/** A fault description that cannot be used; the message names the bad value. */
export class FaultInputError extends Error {
  override readonly name = "FaultInputError";
}

/** A fault aimed at an orchestrator or a capability that does not exist; the message lists what does. */
export class FaultTargetError extends Error {
  override readonly name = "FaultTargetError";
}

const ALLOWED_KEYS: Readonly<Record<ByocFaultMode, readonly string[]>> = {
  none: [],
  latency: ["ms"],
  "cold-start": ["ms", "idleMs"],
  "error-500": ["body"],
  "gpu-oom": ["message"],
  crash: [],
  "schema-mismatch": ["field"],
  hang: [],
  down: [],
};

/** Checks an untrusted fault description (e.g. admin JSON) and returns it as a ByocFault; throws FaultInputError. */
export function parseByocFault(value: unknown): ByocFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FaultInputError(`fault must be an object like {"mode":"latency","ms":200}, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  const mode = record.mode;
  if (typeof mode !== "string" || !(BYOC_FAULT_MODES as readonly string[]).includes(mode)) {
    throw new FaultInputError(`fault.mode must be one of ${BYOC_FAULT_MODES.join(", ")}; got ${describe(mode)}`);
  }
  const faultMode = mode as ByocFaultMode;
  const allowed = ALLOWED_KEYS[faultMode];
  for (const key of Object.keys(record)) {
    if (key !== "mode" && !allowed.includes(key)) {
      const accepted = allowed.length === 0 ? "no other fields" : `only ${allowed.join(", ")}`;
      throw new FaultInputError(`fault mode "${faultMode}" takes ${accepted}; got unknown field "${key}"`);
    }
  }
  switch (faultMode) {
    case "latency":
      return { mode: faultMode, ms: delay(record.ms, "fault.ms") };
    case "cold-start": {
      const ms = delay(record.ms, "fault.ms");
      if (record.idleMs === undefined) return { mode: faultMode, ms };
      const idleMs = delay(record.idleMs, "fault.idleMs");
      if (idleMs === 0) throw new FaultInputError("fault.idleMs must be at least 1 (ms)");
      return { mode: faultMode, ms, idleMs };
    }
    case "error-500":
      return record.body === undefined ? { mode: faultMode } : { mode: faultMode, body: text(record.body, "fault.body") };
    case "gpu-oom":
      return record.message === undefined
        ? { mode: faultMode }
        : { mode: faultMode, message: text(record.message, "fault.message") };
    case "schema-mismatch": {
      if (record.field === undefined) return { mode: faultMode };
      const field = text(record.field, "fault.field");
      if (field === "") throw new FaultInputError("fault.field must not be empty");
      return { mode: faultMode, field };
    }
    default:
      return { mode: faultMode } as ByocFault;
  }
}

/** Checks a fault built in code (the same rules as parseByocFault). */
export function validateByocFault(fault: ByocFault): ByocFault {
  return parseByocFault(fault);
}

function delay(value: unknown, what: string): number {
  if (value === undefined) throw new FaultInputError(`${what} is required (milliseconds)`);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_FAULT_DELAY_MS) {
    throw new FaultInputError(`${what} must be a whole number of milliseconds from 0 to ${MAX_FAULT_DELAY_MS}, got ${describe(value)}`);
  }
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw new FaultInputError(`${what} must be a string, got ${describe(value)}`);
  if (value.length > MAX_TEXT_LENGTH) throw new FaultInputError(`${what} must be at most ${MAX_TEXT_LENGTH} characters`);
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  const shown = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}`;
}

/** W's answer under an answering fault (error-500, gpu-oom, schema-mismatch); undefined for the others. */
export function faultWorkerResponse(fault: ByocFault, request: WorkerRequest): WorkerResponse | undefined {
  switch (fault.mode) {
    case "error-500":
      return { status: 500, contentType: "text/plain; charset=utf-8", body: Buffer.from(fault.body ?? "Internal Server Error") };
    case "gpu-oom":
      // ai-runner's HTTPError shape: {"detail": {"msg": ...}}.
      return {
        status: 500,
        contentType: "application/json",
        body: Buffer.from(JSON.stringify({ detail: { msg: fault.message ?? DEFAULT_GPU_OOM_MESSAGE } })),
      };
    case "schema-mismatch":
      return { status: 422, contentType: "application/json", body: Buffer.from(schemaMismatchBody(request, fault.field ?? "prompt")) };
    default:
      return undefined;
  }
}

/** FastAPI's (pydantic v2) 422 body for a request missing a required body field. */
function schemaMismatchBody(request: WorkerRequest, field: string): string {
  let input: unknown = request.body.toString("utf8");
  try {
    input = JSON.parse(input as string);
  } catch {
    // Not JSON: FastAPI reports the raw text.
  }
  const detail = [
    {
      type: "missing",
      loc: ["body", field],
      msg: "Field required",
      input,
      ctx: { reason: `the request does not match the worker's schema for capability "${request.capability}"` },
    },
  ];
  return JSON.stringify({ detail });
}

/**
 * Cold-start state of one capability's container: warm after a warm-up of `ms`, cold again after `idleMs`
 * without requests.
 */
export class ColdStart {
  private readyAt: number | undefined;
  private lastUsedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ms: number,
    private readonly idleMs: number = DEFAULT_COLD_START_IDLE_MS,
  ) {}

  /** The wait (ms) of a request arriving at `now`, and whether it started a warm-up. */
  wait(now: number): { readonly ms: number; readonly warmUp: boolean } {
    const idle = now - this.lastUsedAt > this.idleMs;
    let warmUp = false;
    if (this.readyAt === undefined || (idle && now >= this.readyAt)) {
      this.readyAt = now + this.ms;
      warmUp = true;
    }
    this.lastUsedAt = Math.max(now, this.readyAt);
    return { ms: Math.max(0, this.readyAt - now), warmUp };
  }

  /** A request finished at `now`: the container was in use until then. */
  used(now: number): void {
    this.lastUsedAt = Math.max(this.lastUsedAt, now);
  }
}
