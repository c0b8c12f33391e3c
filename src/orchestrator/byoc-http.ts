// HTTP from the gateway to orchestrators for BYOC: `GET /process/token` and `POST /process/request/…`.
//
// One keep-alive pool per orchestrator origin, without certificate verification (orchestrators generate a
// self-signed certificate at every start), with a connect timeout like go-livepeer's HTTPDialTimeout covering
// TCP and the TLS handshake. Failures are typed: ByocHttpError for an answer with a bad status, ByocTransportError
// (with a `kind`) when no usable answer arrived. Messages name the orchestrator URL without its query string (a
// client's query may carry its own credentials).

import * as http from "node:http";
import * as https from "node:https";
import type { Duplex, Readable } from "node:stream";
import { CAPABILITY_HEADER, ETH_ADDRESS_HEADER, type JobToken, parseJobToken } from "./byoc-token.js";
import { BoundedCache } from "../util/bounded-cache.js";

/** go-livepeer's common.HTTPDialTimeout: TCP connect plus TLS handshake. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** Per-origin connection cap; requests beyond it wait for a free socket (their header timer runs meanwhile). */
export const DEFAULT_MAX_SOCKETS_PER_ORIGIN = 256;
/**
 * Idle sockets kept per origin: as many as may be open, because a busy orchestrator's sockets go idle between
 * every pair of jobs, and closing them means a fresh TLS handshake on both sides for the next job.
 */
export const DEFAULT_MAX_FREE_SOCKETS_PER_ORIGIN = DEFAULT_MAX_SOCKETS_PER_ORIGIN;
/**
 * An idle socket is closed after this long. go-livepeer uses 1 min; a shorter value makes reusing a socket the
 * orchestrator has just closed (a reset on the first write) less likely.
 */
export const DEFAULT_IDLE_SOCKET_TIMEOUT_MS = 30_000;
/** go-livepeer's per-orchestrator token timeout (jobOrchSearchRespTimeoutDefault). */
export const DEFAULT_TOKEN_TIMEOUT_MS = 500;
/** A JobToken is a few hundred bytes. */
export const MAX_TOKEN_BODY_BYTES = 64 * 1024;
/** How much of an error answer's body is kept. */
export const ERROR_BODY_BYTES = 4 * 1024;

/** Headers the HTTP layer owns. */
const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]);

export type ByocTransportErrorKind = "connect" | "reset" | "timeout" | "tls" | "aborted" | "protocol";

/**
 * No usable answer: "connect" (never connected: refused, unreachable, DNS, or the connect timeout, so the request
 * was not sent), "reset" (connection dropped after connecting), "timeout" (no answer in time), "tls" (handshake or
 * TLS protocol failure), "aborted" (the caller's AbortSignal), "protocol" (malformed HTTP, or a body over its limit).
 */
export class ByocTransportError extends Error {
  override readonly name = "ByocTransportError";
  /** Node's error code when there was one (ECONNREFUSED, ECONNRESET, ERR_SSL_…, HPE_…). */
  readonly code: string | undefined;
  /** The orchestrator URL (no query string). */
  readonly target: string | undefined;
  /** True when the failure happened on a reused keep-alive socket (a stale one if kind is "reset"). */
  readonly reusedSocket: boolean;

  constructor(
    readonly kind: ByocTransportErrorKind,
    message: string,
    details: { code?: string | undefined; target?: string | undefined; reusedSocket?: boolean; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.target = details.target;
    this.reusedSocket = details.reusedSocket ?? false;
  }
}

/** An orchestrator answered with a status the caller cannot use (for tokens: anything but 200). */
export class ByocHttpError extends Error {
  override readonly name = "ByocHttpError";
  constructor(
    readonly status: number,
    /** The first ERROR_BODY_BYTES of the body, as text. */
    readonly bodyText: string,
    readonly target: string,
  ) {
    super(`${target} answered ${status}${bodyText.trim() === "" ? "" : `: ${bodyText.trim().slice(0, 200)}`}`);
  }
}

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EADDRNOTAVAIL",
]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE", "ERR_STREAM_DESTROYED"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "ESOCKETTIMEDOUT"]);

/**
 * The transport error for anything a request or a response body emitted. ByocTransportErrors pass through
 * unchanged; other errors keep their message and code.
 */
export function toTransportError(err: unknown, target?: string, reusedSocket = false): ByocTransportError {
  if (err instanceof ByocTransportError) {
    if (err.target !== undefined || target === undefined) return err;
    // Raised below the request (the dial timeout): name the orchestrator.
    return new ByocTransportError(err.kind, `${target}: ${err.message}`, {
      code: err.code,
      target,
      reusedSocket: err.reusedSocket || reusedSocket,
      cause: err.cause,
    });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  const code = typeof (error as NodeJS.ErrnoException).code === "string" ? (error as NodeJS.ErrnoException).code : undefined;
  const message = target === undefined ? error.message : `${target}: ${error.message}`;
  return new ByocTransportError(transportKind(code, error.message), message, { code, target, reusedSocket, cause: error });
}

function transportKind(code: string | undefined, message: string): ByocTransportErrorKind {
  if (code !== undefined) {
    if (CONNECT_CODES.has(code)) return "connect";
    if (RESET_CODES.has(code)) return "reset";
    if (TIMEOUT_CODES.has(code)) return "timeout";
    if (code === "EPROTO" || /^ERR_(SSL|TLS|OSSL)_/.test(code) || code.startsWith("CERT_") || code.includes("CERT")) return "tls";
    if (code.startsWith("HPE_") || code === "ERR_INVALID_HTTP_RESPONSE") return "protocol";
    if (code === "ABORT_ERR") return "aborted";
  }
  if (/socket hang up|aborted|other side closed/i.test(message)) return "reset";
  if (/\b(ssl|tls)\b/i.test(message)) return "tls";
  return "reset";
}

export interface ByocHttpOptions {
  connectTimeoutMs?: number;
  maxSocketsPerOrigin?: number;
  maxFreeSocketsPerOrigin?: number;
  idleSocketTimeoutMs?: number;
}

export interface FetchTokenOptions {
  /** The orchestrator's URL (the one the gateway knows it by, as go-livepeer uses its pool URL). */
  serviceUri: string;
  capability: string;
  /** ethAddressHeader(identity), computed once. */
  ethAddressHeader: string;
  signal?: AbortSignal;
  /** For the whole exchange, body included; DEFAULT_TOKEN_TIMEOUT_MS when absent. */
  timeoutMs?: number;
}

export interface SendJobOptions {
  /** The token's service_addr. */
  serviceUri: string;
  /** "/process/request/<worker path>" plus the client's query string, which this gateway keeps (go-livepeer drops it). */
  path: string;
  /**
   * Request headers: `Livepeer` (the orchestrator job header, required), `Livepeer-Payment` when paying,
   * `Content-Type` when the client sent one, anything else to pass on. Content-Length is set here; Host, Connection,
   * Transfer-Encoding and Content-Length given by the caller are dropped.
   */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  signal?: AbortSignal;
  /** Until the response headers arrive: go-livepeer uses timeout_seconds + 5 s. The body is not bounded. */
  headerTimeoutMs: number;
}

/**
 * An orchestrator's answer. `body` streams (SSE passes through as it arrives): read it to the end, or destroy it,
 * so the socket returns to the pool or is closed. Errors it emits can be mapped with toTransportError.
 */
export interface ByocResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
}

interface RequestSpec {
  method: "GET" | "POST";
  url: ResolvedUrl;
  headers: http.OutgoingHttpHeaders;
  body?: Buffer;
  signal?: AbortSignal;
  headerTimeoutMs: number;
}

/** Keep-alive HTTP(S) pools to orchestrators, one per origin. */
export class ByocHttpClient {
  private readonly agents = new Map<string, http.Agent>();
  /** jobUrl results by (serviceUri, path): paths carry client query strings, so the number of keys is not bounded. */
  private readonly jobUrls = new BoundedCache<string, ResolvedUrl>(JOB_URL_MEMO_ENTRIES);
  private readonly connectTimeoutMs: number;
  private readonly maxSockets: number;
  private readonly maxFreeSockets: number;
  private readonly idleSocketTimeoutMs: number;
  private closed = false;

  constructor(options: ByocHttpOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.maxSockets = options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN;
    this.maxFreeSockets = options.maxFreeSocketsPerOrigin ?? DEFAULT_MAX_FREE_SOCKETS_PER_ORIGIN;
    this.idleSocketTimeoutMs = options.idleSocketTimeoutMs ?? DEFAULT_IDLE_SOCKET_TIMEOUT_MS;
  }

  /**
   * `GET <serviceUri>/process/token`. Resolves with the parsed token; rejects with ByocHttpError (status ≠ 200),
   * ByocTokenError (a token that does not parse) or ByocTransportError. A reset on a reused idle socket is retried
   * once on a fresh one (the request is idempotent).
   */
  async fetchToken(options: FetchTokenOptions): Promise<JobToken> {
    const url = joinUrl(options.serviceUri, "/process/token");
    const target = describeTarget(url);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = options.signal === undefined ? deadline.signal : AbortSignal.any([options.signal, deadline.signal]);
    const headers = { [ETH_ADDRESS_HEADER]: options.ethAddressHeader, [CAPABILITY_HEADER]: options.capability };
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await this.request({ method: "GET", url: resolvedUrl(url), headers, signal, headerTimeoutMs: timeoutMs });
          if (response.status !== 200) {
            throw new ByocHttpError(response.status, await readBodyText(response.body, ERROR_BODY_BYTES), target);
          }
          const body = await readBody(response.body, MAX_TOKEN_BODY_BYTES);
          return parseJobToken(body.toString("utf8"), options.serviceUri);
        } catch (err) {
          if (err instanceof ByocTransportError && err.kind === "reset" && err.reusedSocket && attempt === 0 && !signal.aborted) {
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (deadline.signal.aborted && options.signal?.aborted !== true && err instanceof ByocTransportError) {
        throw new ByocTransportError("timeout", `${target}: no token within ${timeoutMs} ms`, {
          code: "ETIMEDOUT",
          target,
          reusedSocket: err.reusedSocket,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `POST <serviceUri><path>` with the job headers and body. Resolves as soon as the response headers arrive, whatever
   * the status; rejects with ByocTransportError when none arrive (timeout, abort, connection failure).
   */
  sendJob(options: SendJobOptions): Promise<ByocResponse> {
    let target: ResolvedUrl;
    try {
      target = this.resolveJobUrl(options.serviceUri, options.path);
    } catch (err) {
      return Promise.reject(err);
    }
    const headers: http.OutgoingHttpHeaders = {};
    let hasLivepeer = false;
    for (const name of Object.keys(options.headers)) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) continue;
      if (lower === "livepeer") hasLivepeer = true;
      headers[name] = options.headers[name];
    }
    if (!hasLivepeer) {
      return Promise.reject(new RangeError("a BYOC job needs its Livepeer header"));
    }
    headers["Content-Length"] = String(options.body.length);
    return this.request({
      method: "POST",
      url: target,
      headers,
      body: options.body,
      headerTimeoutMs: options.headerTimeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /**
   * jobUrl, remembered per (serviceUri, path): a job costs a map lookup instead of four URL parses. Bounded: the
   * memo is emptied when full (paths carry client query strings, so their number is not).
   */
  private resolveJobUrl(serviceUri: string, path: string): ResolvedUrl {
    return this.jobUrls.getOrCreate(`${serviceUri}\n${path}`, () => resolvedUrl(jobUrl(serviceUri, path)));
  }

  /** Closes the pool of one orchestrator (e.g. one no longer listed). In-flight requests on it fail. */
  closeOrigin(serviceUri: string): void {
    const origin = new URL(serviceUri).origin;
    this.agents.get(origin)?.destroy();
    this.agents.delete(origin);
  }

  /** Destroys every pool and socket; later requests are refused. */
  close(): void {
    this.closed = true;
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(url: { readonly origin: string; readonly protocol: string }): http.Agent {
    let agent = this.agents.get(url.origin);
    if (agent === undefined) {
      const options = {
        keepAlive: true,
        maxSockets: this.maxSockets,
        maxFreeSockets: this.maxFreeSockets,
        timeout: this.idleSocketTimeoutMs,
        scheduling: "lifo" as const, // reuse the most recently used socket: the one least likely to be stale
      };
      agent =
        url.protocol === "https:"
          ? new DialTimeoutHttpsAgent({ ...options, rejectUnauthorized: false }, this.connectTimeoutMs)
          : new DialTimeoutHttpAgent(options, this.connectTimeoutMs);
      this.agents.set(url.origin, agent);
    }
    return agent;
  }

  private request(spec: RequestSpec): Promise<ByocResponse> {
    const resolved = spec.url;
    const target = resolved.target;
    if (this.closed) return Promise.reject(new ByocTransportError("aborted", `${target}: the HTTP client is closed`, { target }));
    if (spec.signal?.aborted) {
      return Promise.reject(new ByocTransportError("aborted", `${target}: request cancelled before it was sent`, { target }));
    }
    const agent = this.agentFor(resolved);
    const requestOptions: http.RequestOptions = {
      protocol: resolved.protocol,
      hostname: resolved.hostname,
      port: resolved.port,
      path: resolved.path,
      method: spec.method,
      headers: spec.headers,
      agent,
    };
    return new Promise<ByocResponse>((resolve, reject) => {
      const req = (resolved.protocol === "https:" ? https : http).request(requestOptions);
      // The exchange's state lives in an object with methods, and the listeners are anonymous arrows: under tsx
      // (esbuild keepNames) every named closure costs a defineProperty per request.
      const exchange = new PendingExchange(req, target, spec.signal, resolve, reject);
      exchange.timer = setTimeout(() => exchange.headerTimeout(spec.headerTimeoutMs), spec.headerTimeoutMs);
      spec.signal?.addEventListener("abort", exchange.onAbort, { once: true });
      req.on("error", (err) => exchange.fail(err));
      req.on("response", (res) => exchange.answered(res));
      req.end(spec.body);
    });
  }
}

/** One request's state until its response headers arrive, and while its body streams. */
class PendingExchange {
  timer: NodeJS.Timeout | undefined;
  response: http.IncomingMessage | undefined;
  readonly onAbort: () => void;
  readonly cleanup: () => void;

  constructor(
    private readonly req: http.ClientRequest,
    private readonly target: string,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (response: ByocResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.onAbort = () => this.aborted();
    this.cleanup = () => this.release();
  }

  fail(err: unknown): void {
    this.release();
    if (this.response === undefined) this.reject(toTransportError(err, this.target, this.req.reusedSocket));
  }

  answered(res: http.IncomingMessage): void {
    clearTimeout(this.timer);
    this.response = res;
    // The caller's signal keeps working while the body streams; it is released when the body closes.
    res.once("close", this.cleanup);
    this.resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
  }

  headerTimeout(ms: number): void {
    this.req.destroy(
      new ByocTransportError("timeout", `${this.target}: no response headers within ${ms} ms`, {
        code: "ETIMEDOUT",
        target: this.target,
        reusedSocket: this.req.reusedSocket,
      }),
    );
  }

  private aborted(): void {
    const error = new ByocTransportError("aborted", `${this.target}: request cancelled`, { target: this.target, reusedSocket: this.req.reusedSocket });
    // Once the answer is in, cancelling ends its body (with this error) and closes the connection.
    if (this.response === undefined) this.req.destroy(error);
    else this.response.destroy(error);
  }

  private release(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
  }
}

/** The agents measure the connect phase themselves: Node has no connect timeout of its own. */
class DialTimeoutHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return armDialTimeout(super.createConnection(options, callback), "secureConnect", this.connectTimeoutMs);
  }
}

class DialTimeoutHttpAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return armDialTimeout(super.createConnection(options, callback), "connect", this.connectTimeoutMs);
  }
}

function armDialTimeout(socket: Duplex | null | undefined, connectedEvent: string, timeoutMs: number): Duplex | null | undefined {
  if (socket === null || socket === undefined) return socket;
  const timer = setTimeout(() => {
    socket.destroy(
      new ByocTransportError("connect", `could not connect${connectedEvent === "secureConnect" ? " (TCP and TLS)" : ""} within ${timeoutMs} ms`, {
        code: "ETIMEDOUT",
      }),
    );
  }, timeoutMs);
  const disarm = (): void => clearTimeout(timer);
  socket.once(connectedEvent, disarm);
  socket.once("close", disarm);
  return socket;
}

/** serviceUri (any trailing "/" dropped) + path; only http and https. */
function joinUrl(serviceUri: string, path: string): URL {
  let base: URL;
  try {
    base = new URL(serviceUri);
  } catch {
    throw new RangeError(`not an orchestrator URL: ${JSON.stringify(serviceUri)}`);
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new RangeError(`orchestrator URL must be http(s): ${JSON.stringify(serviceUri)}`);
  }
  const url = new URL(`${base.origin}${base.pathname.replace(/\/+$/, "")}${path}`);
  return url;
}

/**
 * The job URL. The path must stay under /process/request/ once "." and ".." segments (also percent-encoded ones)
 * are resolved, so a client's path cannot reach another orchestrator endpoint.
 */
function jobUrl(serviceUri: string, path: string): URL {
  if (!path.startsWith("/process/request")) {
    throw new RangeError(`a BYOC job path must stay under /process/request/, got ${JSON.stringify(path.split("?")[0])}`);
  }
  const base = joinUrl(serviceUri, "");
  const prefix = `${base.pathname.replace(/\/+$/, "")}/process/request`;
  const url = joinUrl(serviceUri, path);
  const inside = (pathname: string): boolean => pathname === prefix || pathname.startsWith(`${prefix}/`);
  if (!inside(url.pathname)) {
    throw new RangeError(`a BYOC job path must stay under /process/request/, got ${JSON.stringify(url.pathname)}`);
  }
  return url;
}

function describeTarget(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Distinct job URLs remembered per client; a few per (orchestrator, worker path, query) in practice. */
const JOB_URL_MEMO_ENTRIES = 1_024;

/** What a request needs of its URL, computed once. */
interface ResolvedUrl {
  readonly origin: string;
  readonly protocol: string;
  /** Without the brackets of an IPv6 literal. */
  readonly hostname: string;
  readonly port: number | undefined;
  /** pathname + search. */
  readonly path: string;
  /** describeTarget(url): for messages, no query string. */
  readonly target: string;
}

function resolvedUrl(url: URL): ResolvedUrl {
  return {
    origin: url.origin,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    target: describeTarget(url),
  };
}

/**
 * Reads a body completely. Over maxBytes the stream is destroyed and a ByocTransportError of kind "protocol" is
 * thrown; stream failures become ByocTransportErrors too.
 */
export async function readBody(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      size += buffer.length;
      if (size > maxBytes) {
        body.destroy();
        throw new ByocTransportError("protocol", `response body is larger than ${maxBytes} bytes`, { code: "ERR_BODY_TOO_LARGE" });
      }
      chunks.push(buffer);
    }
  } catch (err) {
    throw toTransportError(err);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The first maxBytes of a body as text, for error answers: never throws; a longer body is cut (and the stream
 * destroyed), a failing one yields what arrived.
 */
export async function readBodyText(body: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      const room = maxBytes - size;
      chunks.push(buffer.length > room ? buffer.subarray(0, room) : buffer);
      size += Math.min(buffer.length, room);
      if (size >= maxBytes) {
        body.destroy();
        break;
      }
    }
  } catch {
    // What arrived is all there is.
  }
  return Buffer.concat(chunks, size).toString("utf8");
}
