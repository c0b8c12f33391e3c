// go-livepeer's BYOC client endpoint, POST /process/request/<worker path>, so existing BYOC clients can point at
// this gateway unchanged. Differences from go-livepeer, on purpose: every error is a clear 4xx/5xx (never 200 with
// an empty body), the worker's Content-Type and the query string are kept, and the body size is limited.
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { JobAnswer, JobRunner, JobSpec } from "../jobs/job-runner.js";
import { JobFailedError, type JobFailureCode } from "../jobs/job-errors.js";
import type { Logger } from "../log.js";
import type { ClientJobLimits } from "../jobs/client-limits.js";
import { clientAddressOf } from "./client-address.js";
import { ByocRequestError, parseClientJobRequest } from "../orchestrator/byoc-job-request.js";
import { ConnectError, Code } from "@connectrpc/connect";
import { randomBytes } from "node:crypto";

export const BYOC_REQUEST_PREFIX = "/process/request/";

export interface ByocEndpointDeps {
  runner: JobRunner;
  logger: Logger;
  clientLimits: ClientJobLimits;
  /** Largest request body accepted (it is held in memory so that a failed attempt can be replayed elsewhere). */
  maxRequestBytes: number;
}

type Request = IncomingMessage | Http2ServerRequest;
/** What this endpoint uses of Node's HTTP/1.1 and HTTP/2 responses. */
interface Response {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  setHeader(name: string, value: string): unknown;
  write(chunk: Uint8Array): boolean;
  destroy(): unknown;
  on(event: "close" | "drain", listener: () => void): unknown;
  off(event: "close" | "drain", listener: () => void): unknown;
}

const FAILURE_STATUS: Readonly<Record<JobFailureCode, number>> = {
  unavailable: 503,
  canceled: 499,
  unimplemented: 501,
  resource_exhausted: 502,
};

/** True when the request was for the BYOC endpoint (and has been answered, or is being answered). */
export function handleByocRequest(deps: ByocEndpointDeps, req: Request, res: Response): boolean {
  const url = requestTarget(req.url ?? "/");
  if (!url.pathname.startsWith(BYOC_REQUEST_PREFIX)) return false;
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST");
    sendError(res, 405, `${req.method} is not allowed on ${BYOC_REQUEST_PREFIX}: use POST`);
    return true;
  }
  const requestId = nextRequestId();
  res.setHeader("X-Request-Id", requestId);
  const abort = new AbortController();
  // The client went away before the answer was complete: stop the orchestrator request too.
  res.on("close", () => {
    if (!res.writableFinished) abort.abort(new Error("the client closed the connection"));
  });
  void serve(deps, req, res, url, requestId, abort.signal).catch((err: unknown) => {
    deps.logger.error({ err, requestId }, "BYOC request failed unexpectedly");
    if (!res.headersSent) sendError(res, 500, "internal error");
    else res.destroy();
  });
  return true;
}

async function serve(deps: ByocEndpointDeps, req: Request, res: Response, url: RequestTarget, requestId: string, signal: AbortSignal): Promise<void> {
  let spec: JobSpec;
  try {
    const header = req.headers["livepeer"];
    const job = parseClientJobRequest(Array.isArray(header) ? header[0] : header);
    const body = await readBody(req, deps.maxRequestBytes);
    if (body === undefined) {
      sendError(res, 413, `the request body is larger than ${deps.maxRequestBytes} bytes`);
      return;
    }
    const contentType = req.headers["content-type"];
    spec = {
      capability: job.capability,
      modelId: "",
      workerPath: url.pathname.slice(BYOC_REQUEST_PREFIX.length) + url.search,
      body,
      ...(contentType !== undefined ? { contentType } : {}),
      requestJson: job.request,
      parametersJson: job.parameters,
      timeoutSeconds: job.timeoutSeconds,
      maxPricePerUnit: "",
      exclude: job.orchestrators.exclude,
      include: job.orchestrators.include,
      jobId: job.id,
    };
  } catch (err) {
    if (err instanceof ByocRequestError) return sendError(res, 400, err.message);
    throw err;
  }
  const client = clientAddressOf(req);
  const release = deps.clientLimits.tryAcquire(client);
  if (release === undefined) return sendError(res, 429, deps.clientLimits.refusal(client));
  try {
    // Most jobs log nothing: the child logger is only made when something is logged.
    const logger = lazyChildLogger(deps.logger, { requestId, capability: spec.capability, ...(spec.jobId ? { jobId: spec.jobId } : {}) });
    let answer: JobAnswer;
    try {
      answer = await deps.runner.run(spec, signal, logger);
    } catch (err) {
      if (err instanceof JobFailedError) return sendFailure(res, err);
      if (err instanceof ConnectError) return sendError(res, httpStatusOf(err.code), err.rawMessage);
      throw err;
    }
    await sendAnswer(res, answer, logger);
  } finally {
    release();
  }
}

async function sendAnswer(res: Response, answer: JobAnswer, logger: Logger): Promise<void> {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.setHeader("X-Orchestrator-Url", answer.serviceUri);
  res.setHeader("Livepeer-Gateway-Attempts", String(answer.attempts.filter((a) => a.sent).length));
  if (answer.body !== undefined) {
    finish(res, answer.body);
    return;
  }
  try {
    for await (const chunk of answer.stream ?? []) {
      if (!res.write(chunk)) await drained(res);
    }
    finish(res);
  } catch (err) {
    // The answer has begun: it cannot move to another orchestrator, and the client must not take it for whole.
    logger.warn({ err }, "streamed answer cut");
    res.destroy();
  } finally {
    answer.cancel();
  }
}

function sendFailure(res: Response, err: JobFailedError): void {
  const body = {
    error: err.message,
    attempts: err.attempts.map((a) => ({
      orchestrator: a.orchestratorUri,
      outcome: a.outcome,
      latency_ms: Math.round(a.latencyMs),
      ...(a.status !== undefined ? { status: a.status } : {}),
      ...(a.error !== undefined ? { error: a.error } : {}),
      sent: a.sent,
    })),
  };
  res.statusCode = FAILURE_STATUS[err.code];
  res.setHeader("Content-Type", "application/json");
  finish(res, JSON.stringify(body));
}

function sendError(res: Response, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  finish(res, `${message}\n`);
}

/** The whole body, or undefined when it is over the limit (then the rest is not read). */
async function readBody(req: Request, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** end() for both HTTP/1.1 and HTTP/2 responses, whose signatures TypeScript cannot unify. */
function finish(res: Response, body?: Buffer | string): void {
  (res as unknown as { end(chunk?: Buffer | string): void }).end(body);
}

function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** The parts of a request's URL this endpoint uses. */
export interface RequestTarget {
  readonly pathname: string;
  /** "" or "?…". */
  readonly search: string;
}

/** An origin-form path that the WHATWG URL parser leaves exactly as it is (no dot segments, escapes or odd bytes). */
const PLAIN_PATH = /^(?!\/\/)(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~!$&()*+,;=:@-]*)+$/;
/** A query string the parser leaves as it is. */
const PLAIN_QUERY = /^[A-Za-z0-9._~!$&()*+,;=:@/?%-]*$/;

/**
 * `new URL(target, "http://gateway")`'s pathname and search, without parsing when the target is plain (the usual
 * case); anything else goes through the URL parser, so dot segments, escapes and odd characters resolve as before.
 */
export function requestTarget(target: string): RequestTarget {
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q + 1);
  if (PLAIN_PATH.test(path) && PLAIN_QUERY.test(query)) return { pathname: path, search: query === "" ? "" : `?${query}` };
  const url = new URL(target, "http://gateway");
  return { pathname: url.pathname, search: url.search };
}

/** Request ids (16 hex digits) are cut from a pool of random bytes, refilled 4 KiB at a time. */
const ID_BYTES = 8;
let idPool = Buffer.alloc(0);
let idOffset = 0;

export function nextRequestId(): string {
  if (idOffset + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_BYTES * 512);
    idOffset = 0;
  }
  const id = idPool.toString("hex", idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

/**
 * `parent.child(bindings)`, made on first use: a job that logs nothing does not pay for a child logger. Every
 * property read (a log method, level, bindings()) is served by the real child.
 */
export function lazyChildLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= parent.child(bindings));
  return new Proxy({} as Logger, {
    get(_target, property) {
      const logger = real();
      const value: unknown = Reflect.get(logger, property, logger);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(logger) : value;
    },
    set(_target, property, value) {
      return Reflect.set(real(), property, value);
    },
    has(_target, property) {
      return Reflect.has(real(), property);
    },
  });
}

/** Router errors (unknown capability, everything over the ceiling, ...) as HTTP statuses. */
function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.InvalidArgument:
      return 400;
    case Code.NotFound:
      return 404;
    case Code.ResourceExhausted:
      return 429;
    case Code.Unavailable:
      return 503;
    default:
      return 500;
  }
}
